import Foundation
import HTTPTypes

/// The headers that tell a client what the router did (issue 7), named once.
enum RouterHeader {
    static let model = HTTPField.Name("x-router-model")!
    static let reason = HTTPField.Name("x-router-reason")!
    static let cost = HTTPField.Name("x-router-cost-usd")!
    static let overhead = HTTPField.Name("x-router-overhead-ms")!
    static let cache = HTTPField.Name("x-router-cache")!
}

/// Fixed-point decimal text, what `String(format: "%.6f")` writes for the values the router
/// formats, without Foundation's formatter: that took about 3 % of a request's CPU (perf, the
/// pipeline lane at concurrency 1).
enum DecimalText {
    private static let scales = [1, 10, 100, 1000, 10_000, 100_000, 1_000_000]

    static func fixed(_ value: Double, places: Int) -> String {
        precondition((0...6).contains(places), "DecimalText supports 0 to 6 places")
        let scale = scales[places]
        let magnitude = abs(value)
        // Out of Int's exact range, NaN or infinite: the formatter's text.
        guard magnitude.isFinite, magnitude * Double(scale) < 1e15 else { return String(format: "%.\(places)f", value) }
        // Rounded as printf rounds: by the exact binary value (`fma` keeps the remainder exact, so a
        // product that only looks like a tie, 9.9995 × 1000, is not rounded as one).
        var whole = (magnitude * Double(scale)).rounded(.down)
        var remainder = (-whole).addingProduct(magnitude, Double(scale))
        if remainder < 0 { whole -= 1; remainder += 1 }
        if remainder > 0.5 || (remainder == 0.5 && whole.truncatingRemainder(dividingBy: 2) == 1) { whole += 1 }
        let units = Int(whole)
        let sign = value.sign == .minus ? "-" : ""
        guard places > 0 else { return sign + String(units) }
        let fraction = String(units % scale)
        return sign + String(units / scale) + "." + String(repeating: "0", count: places - fraction.count) + fraction
    }
}
