import ServiceKit
import Testing

/// Delays from upstream headers feed timers: any value must come out as a usable number of seconds.
@Suite struct UpstreamDelayTests {
    @Test func retryAfterIsClampedToADayAndNonsenseIsIgnored() {
        #expect(UpstreamDelay.retryAfter("5") == 5 && UpstreamDelay.retryAfter(" 1.5 ") == 1.5)
        #expect(UpstreamDelay.retryAfter("1e30") == UpstreamDelay.longest && UpstreamDelay.retryAfter("inf") == UpstreamDelay.longest)
        #expect(UpstreamDelay.retryAfter("-3") == 0)
        for ignored in [nil, "nan", "soon", "Wed, 21 Oct 2026 07:28:00 GMT"] { #expect(UpstreamDelay.retryAfter(ignored) == nil) }
    }
}
