/// A command that could not do its work for a reason outside its command line (a file, a key, a peer that
/// does not answer): printed as "Error: …" with exit status 1. `ValidationError`, which prints the usage and
/// exits 64, is kept for a command line that is itself wrong.
package struct CommandFailure: Error, CustomStringConvertible {
    package let description: String

    package init(_ description: String) { self.description = description }
}
