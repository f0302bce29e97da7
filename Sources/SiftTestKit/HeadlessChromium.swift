import Foundation
import SiftData
import SiftFiles

/// Renders a page in headless Chromium to a PNG screenshot, for tests that check a report is drawn.
public enum HeadlessChromium {
    public static let path = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    /// Screenshots `page` (an HTML file) at `width`×`height` into `shot`, with a profile in `scratch`; waits
    /// at most 90 s. Returns the decoded image.
    public static func screenshot(
        _ page: String, to shot: String, scratch: String, width: Int = 1200, height: Int = 1600
    ) throws -> DecodedPNG {
        guard let path else {
            throw DataError.badFormat(path: shot, reason: "chromium is not installed (apt-get install chromium)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = [
            "--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=\(scratch)",
            "--window-size=\(width),\(height)", "--screenshot=\(shot)", "file://\(page)",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(90)
        while process.isRunning && Date() < deadline { usleep(50_000) }
        if process.isRunning { process.terminate(); kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        return try DecodedPNG(path: shot)
    }
}
