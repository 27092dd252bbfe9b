import Foundation
import Testing

@testable import ModelRouter

@Suite struct DecimalTextTests {
    /// The same text as the Foundation formatter it replaces, for costs and overheads as they come
    /// (a sweep of values with 1 to 9 significant digits) and the edges (zero, rounding up to the
    /// next unit, negative values that round to zero).
    @Test func writesWhatStringFormatWrites() {
        var values: [Double] = [0, 1, 0.5, 0.0000004, 0.0000006, 0.9999996, 9.9995, 123.456789, 0.000231, 2.5e-7, -0.0000001, -1.25, 1234567.891]
        var seed: UInt64 = 42
        for _ in 0..<20_000 {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            let digits = Double(seed >> 40) / Double(1 << 24)
            values.append(digits * pow(10, Double(Int(seed % 9)) - 6))
        }
        for places in [3, 6] {
            let mismatches = values.filter { DecimalText.fixed($0, places: places) != String(format: "%.\(places)f", $0) }
            // A binary value that is a decimal tie after scaling may round the other way; none of these is.
            #expect(mismatches.isEmpty, "\(mismatches.prefix(5)) at \(places) places")
        }
        #expect(DecimalText.fixed(12.5, places: 0) == "12")
    }
}
