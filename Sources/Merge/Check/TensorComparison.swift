/// Sums over one tensor's sampled rows in every model of a check, scaled to stand for the whole
/// tensor. Sums add across tensors, so a layer's or the model's figures are sums of these.
public struct TensorComparison: Sendable {
    /// The tensor's name and layer (`blk.N.`; nil for tensors outside the layers).
    public var name: String
    public var layer: Int?
    /// Per model: Σx² and the estimated rounding noise energy (``RoundingNoise``).
    public var energy: [Double]
    public var noise: [Double]
    /// Per pair (`[i][j]`): Σ xᵢxⱼ and Σ (xᵢ − xⱼ)².
    public var dot: [[Double]]
    public var difference: [[Double]]
    /// With a base: per pair of task vectors tᵢ = xᵢ − base, Σ tᵢtⱼ, and the count of elements where
    /// both are non-zero and where they also agree in sign.
    public var taskDot: [[Double]]
    public var bothChanged: [[Double]]
    public var signAgreements: [[Double]]

    public init(name: String, models count: Int) {
        self.name = name
        layer = TensorComparison.layer(of: name)
        energy = Array(repeating: 0, count: count)
        noise = energy
        dot = Array(repeating: energy, count: count)
        difference = dot
        taskDot = dot
        bothChanged = dot
        signAgreements = dot
    }

    /// Compares the decoded samples `values` (one array a model, equal lengths), whose rounding noise
    /// is `noise`, weighting every sum by `weight` (``RowSample/weight``).
    public init(name: String, values: [[Float]], noise: [Double], base: Int?, weight: Double) {
        self.init(name: name, models: values.count)
        let n = values.count
        for i in 0..<n {
            self.noise[i] = noise[i] * weight
            energy[i] = Self.sum(values[i], values[i]) * weight
            for j in i ..< n {
                let d = Self.sum(values[i], values[j]) * weight
                dot[i][j] = d; dot[j][i] = d
                let e = Self.squaredDistance(values[i], values[j]) * weight
                difference[i][j] = e; difference[j][i] = e
            }
        }
        guard let base else { return }
        for i in 0..<n where i != base {
            for j in i ..< n where j != base {
                let (d, both, agree) = Self.taskVectorSums(values[i], values[j], base: values[base])
                taskDot[i][j] = d * weight; taskDot[j][i] = d * weight
                bothChanged[i][j] = both * weight; bothChanged[j][i] = both * weight
                signAgreements[i][j] = agree * weight; signAgreements[j][i] = agree * weight
            }
        }
    }

    /// Adds `other`'s sums (another tensor of the same models) to these.
    public mutating func add(_ other: TensorComparison) {
        for i in energy.indices {
            energy[i] += other.energy[i]
            noise[i] += other.noise[i]
            for j in energy.indices {
                dot[i][j] += other.dot[i][j]
                difference[i][j] += other.difference[i][j]
                taskDot[i][j] += other.taskDot[i][j]
                bothChanged[i][j] += other.bothChanged[i][j]
                signAgreements[i][j] += other.signAgreements[i][j]
            }
        }
    }

    /// The layer number of `blk.N.…` names.
    static func layer(of name: String) -> Int? {
        guard name.hasPrefix("blk.") else { return nil }
        return Int(name.dropFirst(4).prefix { $0.isNumber })
    }

    static func sum(_ x: [Float], _ y: [Float]) -> Double {
        var total = 0.0
        x.withUnsafeBufferPointer { x in
            y.withUnsafeBufferPointer { y in
                for chunk in stride(from: 0, to: x.count, by: 256) {
                    var lane: Float = 0
                    for k in chunk ..< min(chunk &+ 256, x.count) { lane += x[k] * y[k] }
                    total += Double(lane)
                }
            }
        }
        return total
    }

    static func squaredDistance(_ x: [Float], _ y: [Float]) -> Double {
        var total = 0.0
        x.withUnsafeBufferPointer { x in
            y.withUnsafeBufferPointer { y in
                for chunk in stride(from: 0, to: x.count, by: 256) {
                    var lane: Float = 0
                    for k in chunk ..< min(chunk &+ 256, x.count) {
                        let d = x[k] - y[k]
                        lane += d * d
                    }
                    total += Double(lane)
                }
            }
        }
        return total
    }

    static func taskVectorSums(_ x: [Float], _ y: [Float], base: [Float]) -> (dot: Double, both: Double, agree: Double) {
        var dot = 0.0, both = 0, agree = 0
        for k in base.indices {
            let s = x[k] - base[k], t = y[k] - base[k]
            dot += Double(s) * Double(t)
            if s != 0, t != 0 {
                both &+= 1
                if (s > 0) == (t > 0) { agree &+= 1 }
            }
        }
        return (dot, Double(both), Double(agree))
    }
}
