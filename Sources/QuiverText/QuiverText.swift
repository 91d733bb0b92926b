// The BERT WordPiece tokenizer (issue 4).
