// The parts of llama.cpp's IQ1_S and IQ1_M quantizers (`quantize_row_iq1_s_impl`,
// `quantize_row_iq1_m_impl`) shared by both: sorting a group by value, and the grid search with
// shifted ternary levels (`iq1_find_best_neighbour2`).

/// The positions of `x[0..<n]` in ascending order of value, ties in index order: what glibc's `qsort`
/// (a stable merge sort for arrays this small) gives ggml's `iq1_sort_helper`.
@inline(__always)
func sortedPositions(_ x: UnsafePointer<Float>, _ n: Int, into order: UnsafeMutablePointer<Int>) {
    for j in 0..<n {
        var k = j
        while k > 0 && x[order[k - 1]] > x[j] {
            order[k] = order[k - 1]
            k -= 1
        }
        order[k] = j
    }
}

/// The shifted ternary levels `{−1, 0, 1} ± IQ1S_DELTA` (`x_p` for `+`, `x_m` for `−`).
@inline(__always)
func shiftedLevels(_ positive: Bool) -> (Float, Float, Float) {
    let delta: Float = 0.125
    return positive ? (-1 + delta, delta, 1 + delta) : (-1 - delta, -delta, 1 - delta)
}

@inline(__always)
func level(_ levels: (Float, Float, Float), _ l: Int8) -> Float {
    l == 0 ? levels.0 : l == 1 ? levels.1 : levels.2
}

extension LatticeSearch {
    /// ggml's `iq1_find_best_neighbour2`: among the listed neighbours, the first point minimizing
    /// `Σ w·(scale·xx[l] − x)²`; writes its levels to `L` and returns its index (the first neighbour
    /// where ggml aborts, for non-finite input).
    @inline(__always)
    func bestTernaryNeighbour(_ entry: Int32, _ x: UnsafePointer<Float>, _ weight: UnsafePointer<Float>, scale: Float,
                              _ xx: (Float, Float, Float), _ L: UnsafeMutablePointer<Int8>) -> Int {
        let list = Int(-entry - 1)
        var best = Float.greatestFiniteMagnitude
        var index = Int(neighbours[list + 1])
        for n in 1...Int(neighbours[list]) {
            let candidate = Int(neighbours[list + n])
            var d2: Float = 0
            for i in 0..<8 {
                let q = level(xx, levels[candidate * 8 + i])
                let diff = scale * q - x[i]
                d2 += weight[i] * diff * diff
            }
            if d2 < best {
                best = d2
                index = candidate
            }
        }
        for i in 0..<8 { L[i] = levels[index * 8 + i] }
        return index
    }
}
