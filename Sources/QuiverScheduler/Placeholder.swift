/// The DynamicBatcher and its policies (issue 6): being written.
enum SchedulerPlaceholder {}
