/// Exponential backoff with jitter: 5 s doubling per attempt up to 6 h, ±25 % so jobs
/// that failed together do not come back together. 20 attempts span about three days.
public enum Backoff {
    public static func delay(afterAttempt attempt: Int) -> Duration {
        let base = min(5 * pow2(max(0, attempt - 1)), 6 * 3600)
        return .milliseconds(Int(base * 1000 * Double.random(in: 0.75...1.25)))
    }

    private static func pow2(_ exponent: Int) -> Double {
        exponent >= 30 ? Double(1 << 30) : Double(1 << exponent)
    }
}
