/// Hands a value to concurrent lanes that each touch a disjoint part of what it reaches (slots of a
/// buffer, ranges of a product's outputs): no checked construct expresses "disjoint parts", so this
/// is the package's one `@unchecked Sendable` wrapper, and every use says which parts are disjoint.
package struct UncheckedSendable<Value>: @unchecked Sendable {
    package let value: Value
    package init(_ value: Value) { self.value = value }
}
