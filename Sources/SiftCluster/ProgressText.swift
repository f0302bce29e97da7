import Foundation
import SiftWire

/// A duration as m:ss, or h:mm:ss from an hour on, for progress lines.
package func clockText(_ seconds: Double) -> String {
    let s = Int(seconds.rounded())
    return s >= 3600
        ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
}

/// `[####------]`: `fraction` (in [0, 1]) of `width` cells filled.
package func progressBar(_ fraction: Double, width: Int) -> String {
    let filled = min(max(Int(fraction * Double(width)), 0), width)
    return "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "]"
}
