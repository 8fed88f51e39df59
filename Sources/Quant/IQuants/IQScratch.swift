/// Scratch space of one IQ quantizer call, allocated once per call (not per block): the per-group
/// arrays of ggml's `quantize_row_iq*_impl` (256 values each: IQ1's prefix sums need 33) and the importance weights (ones when none are given).
final class IQScratch {
    let weight: UnsafeMutablePointer<Float>
    let waux: UnsafeMutablePointer<Float>
    let xval: UnsafeMutablePointer<Float>
    let L: UnsafeMutablePointer<Int8>
    let Laux: UnsafeMutablePointer<Int8>
    let scales: UnsafeMutablePointer<Float>
    /// The packed words of one super-block (`q2`/`q3` in ggml), zeroed by the quantizer per block.
    let words: UnsafeMutablePointer<UInt32>
    /// Sorted positions (IQ1).
    let order: UnsafeMutablePointer<Int>
    /// `rowLength` importance weights.
    let weights: UnsafePointer<Float>
    private let ownedWeights: UnsafeMutablePointer<Float>?

    init(rowLength: Int, importance: UnsafePointer<Float>?) {
        weight = .allocate(capacity: 256)
        waux = .allocate(capacity: 256)
        xval = .allocate(capacity: 256)
        L = .allocate(capacity: 256)
        Laux = .allocate(capacity: 256)
        scales = .allocate(capacity: 16)
        words = .allocate(capacity: 32)
        order = .allocate(capacity: 32)
        if let importance {
            weights = importance
            ownedWeights = nil
        } else {
            let ones = UnsafeMutablePointer<Float>.allocate(capacity: rowLength)
            ones.initialize(repeating: 1, count: rowLength)
            weights = UnsafePointer(ones)
            ownedWeights = ones
        }
    }

    deinit {
        weight.deallocate(); waux.deallocate(); xval.deallocate()
        L.deallocate(); Laux.deallocate(); scales.deallocate(); words.deallocate(); order.deallocate()
        ownedWeights?.deallocate()
    }
}
