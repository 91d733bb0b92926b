import Testing
@Suite struct SchedulerPlaceholderTests { @Test func builds() { #expect(Bool(true)) } }
