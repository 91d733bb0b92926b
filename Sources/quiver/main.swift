import QuiverRuntime

// OpenBLAS reads OPENBLAS_CORETYPE when it loads; restart once with the right value before doing
// anything else (see OpenBLASEnvironment).
OpenBLASEnvironment.reexecIfBeneficial()
Quiver.main()
