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

    /// Compares the decoded samples `values` (one buffer a model, equal lengths), whose rounding noise
    /// is `noise`, weighting every sum by `weight` (``RowSample/weight``).
    public init(name: String, values: [UnsafeBufferPointer<Float>], noise: [Double], base: Int?, weight: Double) {
        self.init(name: name, models: values.count)
        let n = values.count
        for i in 0..<n {
            self.noise[i] = noise[i] * weight
            for j in i ..< n {
                let (d, e) = Self.pairSums(values[i], values[j])
                dot[i][j] = d * weight; dot[j][i] = d * weight
                difference[i][j] = e * weight; difference[j][i] = e * weight
            }
            energy[i] = dot[i][i]
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

    /// Σ xy and Σ (x − y)²: float sums in eight lanes over runs of 256 elements (so the loop
    /// vectorizes and no float sum grows long), the runs added in double.
    static func pairSums(_ x: UnsafeBufferPointer<Float>, _ y: UnsafeBufferPointer<Float>) -> (dot: Double, squaredDistance: Double) {
        var dot = 0.0, distance = 0.0
        forEachRun(count: x.count) { range in
            var products = SIMD8<Float>(), squares = SIMD8<Float>()
            var k = range.lowerBound
            while k &+ 8 <= range.upperBound {
                var a = SIMD8<Float>(), b = SIMD8<Float>()
                for lane in 0 ..< 8 { a[lane] = x[k &+ lane]; b[lane] = y[k &+ lane] }
                products += a * b
                squares += (a - b) * (a - b)
                k &+= 8
            }
            dot += Double(products.sum())
            distance += Double(squares.sum())
            while k < range.upperBound {
                dot += Double(x[k] * y[k])
                distance += Double((x[k] - y[k]) * (x[k] - y[k]))
                k &+= 1
            }
        }
        return (dot, distance)
    }

    /// Over task vectors s = x − base and t = y − base: Σ st, the count of elements where both are
    /// non-zero, and of those where they also agree in sign (lanes as in `pairSums`).
    static func taskVectorSums(_ x: UnsafeBufferPointer<Float>, _ y: UnsafeBufferPointer<Float>, base: UnsafeBufferPointer<Float>) -> (dot: Double, both: Double, agree: Double) {
        var dot = 0.0, both = 0, agree = 0
        forEachRun(count: base.count) { range in
            var products = SIMD8<Float>(), bothLanes = SIMD8<Int32>(), agreeLanes = SIMD8<Int32>()
            var k = range.lowerBound
            while k &+ 8 <= range.upperBound {
                var s = SIMD8<Float>(), t = SIMD8<Float>()
                for lane in 0 ..< 8 {
                    s[lane] = x[k &+ lane] - base[k &+ lane]
                    t[lane] = y[k &+ lane] - base[k &+ lane]
                }
                products += s * t
                for lane in 0 ..< 8 {
                    let changed: Int32 = s[lane] != 0 && t[lane] != 0 ? 1 : 0
                    bothLanes[lane] &+= changed
                    agreeLanes[lane] &+= changed & ((s[lane] > 0) == (t[lane] > 0) ? 1 : 0)
                }
                k &+= 8
            }
            dot += Double(products.sum())
            both &+= Int(bothLanes.wrappedSum())
            agree &+= Int(agreeLanes.wrappedSum())
            while k < range.upperBound {
                let s = x[k] - base[k], t = y[k] - base[k]
                dot += Double(s * t)
                if s != 0, t != 0 {
                    both &+= 1
                    if (s > 0) == (t > 0) { agree &+= 1 }
                }
                k &+= 1
            }
        }
        return (dot, Double(both), Double(agree))
    }

    /// Calls `body` with consecutive ranges of at most 256 of `count` elements.
    @inline(__always)
    static func forEachRun(count: Int, _ body: (Range<Int>) -> Void) {
        var start = 0
        while start < count {
            let end = min(start &+ 256, count)
            body(start ..< end)
            start = end
        }
    }
}
