/// The leading singular triplets of a matrix by randomized SVD with power iterations (Halko,
/// Martinsson & Tropp, "Finding structure with randomness", 2011, algorithms 4.4 and 5.1), in plain
/// Swift: a random test matrix, `powerIterations` rounds of re-orthonormalized power iteration, then
/// the exact SVD of the small projected matrix (Jacobi eigendecomposition of its Gram matrix).
///
/// When `rank + oversampling` reaches the smaller dimension the range is captured whole and the
/// result is the exact truncated SVD. Deterministic for a seed: the test matrix is a pure function of
/// (seed, stream, index), and every parallel loop writes its own outputs.
public struct RandomizedSVD: Sendable {
    /// Left singular vectors, each of length `rows` (`u[r]` for singular value `r`).
    public var u: [[Float]]
    /// Singular values, descending.
    public var singularValues: [Double]
    /// Right singular vectors, each of length `columns`.
    public var v: [[Float]]

    /// The leading `rank` singular triplets of the `rows × columns` row-major `matrix`.
    public init(_ matrix: UnsafeBufferPointer<Float>, rows: Int, columns: Int, rank: Int, oversampling: Int = 10,
                powerIterations: Int = 2, random: RandomStream, threads: Int = 1) {
        precondition(matrix.count == rows * columns && rank >= 1)
        let k = min(rank + oversampling, rows, columns)
        // Ω as k vectors of length `columns`, uniform on [−1, 1).
        var omega = (0..<k).map { c in (0..<columns).map { j in random.uniform(at: c &* columns &+ j) * 2 - 1 } }
        var q = Self.orthonormalized(Self.multiply(matrix, rows: rows, columns: columns, by: omega, threads: threads))
        for _ in 0..<powerIterations {
            omega = Self.orthonormalized(Self.transposedMultiply(matrix, rows: rows, columns: columns, by: q, threads: threads))
            q = Self.orthonormalized(Self.multiply(matrix, rows: rows, columns: columns, by: omega, threads: threads))
        }
        // B = Qᵀ·M (k × columns); B·Bᵀ = W·Λ·Wᵀ gives B = W·Σ·Vᵀ, so M ≈ (Q·W)·Σ·Vᵀ.
        let b = Self.transposedMultiply(matrix, rows: rows, columns: columns, by: q, threads: threads)
        var gram = [[Double]](repeating: [Double](repeating: 0, count: k), count: k)
        for i in 0..<k {
            for j in i..<k {
                var sum = 0.0
                for t in 0..<columns { sum += Double(b[i][t]) * Double(b[j][t]) }
                gram[i][j] = sum; gram[j][i] = sum
            }
        }
        let (values, vectors) = Self.symmetricEigen(gram)
        let order = values.indices.sorted { values[$0] > values[$1] }.prefix(min(rank, k))
        singularValues = order.map { max(values[$0], 0).squareRoot() }
        u = order.map { r in Self.combine(q, weights: vectors.map { $0[r] }) }
        v = zip(order, singularValues).map { r, sigma in
            let row = Self.combine(b, weights: vectors.map { $0[r] })
            return sigma > 0 ? row.map { Float(Double($0) / sigma) } : row.map { _ in 0 }
        }
    }

    /// M·X for X given as vectors of length `columns`: one vector of length `rows` per input vector.
    static func multiply(_ m: UnsafeBufferPointer<Float>, rows: Int, columns: Int, by x: [[Float]], threads: Int) -> [[Float]] {
        var out = [Float](repeating: 0, count: x.count * rows)
        out.withUnsafeMutableBufferPointer { out in
            parallelChunks(count: rows, chunk: 64, threads: threads) { _, range in
                for i in range {
                    let row = UnsafeBufferPointer(rebasing: m[i &* columns ..< (i &+ 1) &* columns])
                    for (c, vector) in x.enumerated() {
                        var sum: Float = 0
                        vector.withUnsafeBufferPointer { v in
                            for j in 0..<columns { sum += row[j] * v[j] }
                        }
                        out[c &* rows &+ i] = sum
                    }
                }
            }
        }
        return (0..<x.count).map { c in Array(out[c &* rows ..< (c &+ 1) &* rows]) }
    }

    /// Mᵀ·Y for Y given as vectors of length `rows`: one vector of length `columns` per input vector.
    static func transposedMultiply(_ m: UnsafeBufferPointer<Float>, rows: Int, columns: Int, by y: [[Float]], threads: Int) -> [[Float]] {
        var out = [Float](repeating: 0, count: y.count * columns)
        out.withUnsafeMutableBufferPointer { out in
            parallelChunks(count: y.count, chunk: 1, threads: threads) { _, range in
                for c in range {
                    let target = out.baseAddress! + c &* columns
                    y[c].withUnsafeBufferPointer { weights in
                        for i in 0..<rows where weights[i] != 0 {
                            let w = weights[i], row = m.baseAddress! + i &* columns
                            for j in 0..<columns { target[j] += w * row[j] }
                        }
                    }
                }
            }
        }
        return (0..<y.count).map { c in Array(out[c &* columns ..< (c &+ 1) &* columns]) }
    }

    /// Σ weights[c]·vectors[c].
    static func combine(_ vectors: [[Float]], weights: [Double]) -> [Float] {
        var sum = [Double](repeating: 0, count: vectors.first?.count ?? 0)
        for (vector, weight) in zip(vectors, weights) {
            for j in sum.indices { sum[j] += weight * Double(vector[j]) }
        }
        return sum.map { Float($0) }
    }

    /// An orthonormal basis of the vectors' span by modified Gram–Schmidt, run twice ("twice is
    /// enough", Giraud et al. 2005); a vector already in the span of the previous ones becomes zero.
    static func orthonormalized(_ vectors: [[Float]]) -> [[Float]] {
        var basis: [[Double]] = []
        for vector in vectors {
            var w = vector.map(Double.init)
            let original = w.reduce(0) { $0 + $1 * $1 }.squareRoot()
            for _ in 0..<2 {
                for q in basis {
                    var dot = 0.0
                    for j in w.indices { dot += w[j] * q[j] }
                    for j in w.indices { w[j] -= dot * q[j] }
                }
            }
            let norm = w.reduce(0) { $0 + $1 * $1 }.squareRoot()
            if norm > 1e-6 * original, norm > 0 {
                basis.append(w.map { $0 / norm })
            } else {
                basis.append([Double](repeating: 0, count: w.count))
            }
        }
        return basis.map { $0.map { Float($0) } }
    }

    /// Eigenvalues and eigenvectors (`vectors[i][r]`: component i of eigenvector r) of a symmetric
    /// matrix by cyclic Jacobi rotations.
    static func symmetricEigen(_ matrix: [[Double]]) -> (values: [Double], vectors: [[Double]]) {
        var a = matrix
        let n = a.count
        var v = (0..<n).map { i in (0..<n).map { j in i == j ? 1.0 : 0.0 } }
        for _ in 0..<100 {
            var off = 0.0, diagonal = 0.0
            for i in 0..<n {
                diagonal += a[i][i] * a[i][i]
                for j in 0..<n where j != i { off += a[i][j] * a[i][j] }
            }
            if off <= 1e-30 * diagonal || off == 0 { break }
            for p in 0..<n {
                for q in (p + 1)..<max(n, p + 1) where a[p][q] != 0 {
                    let theta = (a[q][q] - a[p][p]) / (2 * a[p][q])
                    let t = (theta >= 0 ? 1.0 : -1.0) / (abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot(), s = t * c
                    for k in 0..<n {
                        let akp = a[k][p], akq = a[k][q]
                        a[k][p] = c * akp - s * akq
                        a[k][q] = s * akp + c * akq
                    }
                    for k in 0..<n {
                        let apk = a[p][k], aqk = a[q][k]
                        a[p][k] = c * apk - s * aqk
                        a[q][k] = s * apk + c * aqk
                    }
                    for k in 0..<n {
                        let vkp = v[k][p], vkq = v[k][q]
                        v[k][p] = c * vkp - s * vkq
                        v[k][q] = s * vkp + c * vkq
                    }
                }
            }
        }
        return ((0..<n).map { a[$0][$0] }, v)
    }
}
