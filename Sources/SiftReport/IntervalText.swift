import Foundation

/// A mean with its 95 % half-width as a reader wants it: the half-width to two significant digits and the
/// mean to the same decimal place (0.8714 ± 0.0035, not 0.8714 ± 0.003475); digits past the interval's
/// precision say nothing.
package enum IntervalText {
    package static func format(_ mean: Double, plusOrMinus halfWidth: Double) -> String {
        guard halfWidth.isFinite, halfWidth > 0, mean.isFinite else { return plain(mean) }
        let decimals = min(max(1 - Int(log10(halfWidth).rounded(.down)), 0), 12)
        return String(format: "%.\(decimals)f ± %.\(decimals)f", mean, halfWidth)
    }

    /// A value with no interval: four significant digits, one decimal from 100 up.
    package static func plain(_ value: Double) -> String {
        String(format: abs(value) >= 100 ? "%.1f" : "%.4g", value)
    }
}
