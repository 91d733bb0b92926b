import QuiverCore
// BERT and MLP encoders (issue 4).
