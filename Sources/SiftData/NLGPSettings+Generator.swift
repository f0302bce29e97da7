import SiftSpec

extension NLGPSettings {
    public var generator: NLGPGenerator {
        NLGPGenerator(
            side: side, correlationLengths: correlationLengths, gain: gain, periodic: periodic,
            cloneClasses: cloneClasses)
    }
}
