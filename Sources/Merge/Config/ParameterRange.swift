/// The values a method defines for a numeric parameter; a config giving another is refused at the
/// value's `file:line:column` before anything is planned (mergekit passes them on to torch, which
/// fails mid-merge or, for `density: 1.5`, silently keeps everything).
struct ParameterRange {
    var bounds: ClosedRange<Double>
    /// What the parameter is, for the message.
    var meaning: String

    /// The range of the parameter `name`, or nil when any finite number is allowed (`weight`, `t`,
    /// `lambda`, …). Bounds are mergekit's semantics: fractions are fractions.
    static func of(_ name: String) -> ParameterRange? {
        switch name {
        case "density": ParameterRange(bounds: 0 ... 1, meaning: "the fraction of each task vector kept")
        case "gamma": ParameterRange(bounds: 0 ... 1, meaning: "the fraction of the largest magnitudes removed")
        case "epsilon": ParameterRange(bounds: 0 ... 1, meaning: "the spread of DELLA's keep probabilities")
        case "select_topk": ParameterRange(bounds: 0 ... 1, meaning: "the fraction of highest-variance elements kept")
        case "max_iter": ParameterRange(bounds: 1 ... 1_000_000, meaning: "the number of Karcher iterations")
        case "tol", "eps": ParameterRange(bounds: 0 ... .greatestFiniteMagnitude, meaning: "a tolerance")
        default: nil
        }
    }

    /// Checks `value` of parameter `name` written at `mark`: finite, and in range when it has one.
    static func check(_ value: Double, name: String, owner: String, file: String, at mark: Mark) throws(ConfigError) {
        guard value.isFinite else {
            throw .invalid(file: file, at: mark, message: "\(owner) must be a finite number, not \(value)")
        }
        if let range = of(name), !range.bounds.contains(value) {
            let upper = range.bounds.upperBound == .greatestFiniteMagnitude ? "∞" : range.bounds.upperBound.formatted
            throw .invalid(file: file, at: mark, message:
                "\(owner) is \(value.formatted), outside [\(range.bounds.lowerBound.formatted), \(upper)] (\(range.meaning))")
        }
    }
}
