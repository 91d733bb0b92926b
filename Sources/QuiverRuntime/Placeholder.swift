import QuiverCore
