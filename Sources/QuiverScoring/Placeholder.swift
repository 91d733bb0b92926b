/// Catalog scoring (issue 5): being written.
enum ScoringPlaceholder {}
