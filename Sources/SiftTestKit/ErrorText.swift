import SiftFiles

/// What `body` threw, as a user would read it: a `DataError`'s description, "untyped error: …" for any other
/// error (which the bounded readers must not throw), or "no error".
package func dataErrorText(_ body: () throws -> Void) -> String {
    do {
        try body()
        return "no error"
    } catch let error as DataError {
        return error.description
    } catch {
        return "untyped error: \(error)"
    }
}
