// The CLI, server and tests import QuiverRuntime only; re-export the types they need.
@_exported import QuiverCore
@_exported import QuiverScoring
@_exported import QuiverScheduler
