import Foundation
import Testing
@testable import GGUF

@Suite struct HugePagesTests {
    @Test(arguments: [1, 100, 4096, HugePages.size - 1, HugePages.size, 2 * HugePages.size + 3])
    func buffersAreAlignedAndUsable(_ byteCount: Int) {
        let buffer = HugePages.allocate(byteCount: byteCount, alignment: 4096)
        defer { buffer.deallocate() }
        #expect(buffer.count == byteCount)
        let address = Int(bitPattern: buffer.baseAddress)
        #expect(address % 4096 == 0)
        if byteCount >= HugePages.size { #expect(address % HugePages.size == 0) }
        for i in 0 ..< byteCount { buffer[i] = UInt8(truncatingIfNeeded: i &* 31) }
        #expect((0 ..< byteCount).allSatisfy { buffer[$0] == UInt8(truncatingIfNeeded: $0 &* 31) })
    }

    /// Where the kernel has transparent huge pages, the whole huge pages of a large buffer are advised:
    /// the mapping that holds them carries the `hg` flag (`VM_HUGEPAGE`) in `/proc/self/smaps`.
    @Test func largeBuffersAreAdvisedAsHugePages() throws {
        #if os(Linux)
        guard FileManager.default.fileExists(atPath: "/sys/kernel/mm/transparent_hugepage/enabled") else { return }
        let buffer = HugePages.allocate(byteCount: 2 * HugePages.size + 4096, alignment: 4096)
        defer { buffer.deallocate() }
        let address = UInt(bitPattern: buffer.baseAddress)
        let flags = try vmFlags(containing: address)
        #expect(flags.contains("hg"), "flags of the mapping at \(String(address, radix: 16)): \(flags)")
        #endif
    }

    /// The `VmFlags` of the mapping that contains `address`.
    func vmFlags(containing address: UInt) throws -> [String] {
        // Read to the end: `String(contentsOfFile:)` stops after the first read of a /proc file.
        let data = try FileHandle(forReadingFrom: URL(fileURLWithPath: "/proc/self/smaps")).readToEnd() ?? Data()
        let smaps = String(decoding: data, as: UTF8.self)
        var inside = false
        for line in smaps.split(separator: "\n") {
            let fields = line.split(separator: " ")
            if let range = fields.first, range.contains("-"), !range.hasSuffix(":") {
                let bounds = range.split(separator: "-").compactMap { UInt($0, radix: 16) }
                inside = bounds.count == 2 && bounds[0] <= address && address < bounds[1]
            } else if inside, fields.first == "VmFlags:" {
                return fields.dropFirst().map(String.init)
            }
        }
        return []
    }
}
