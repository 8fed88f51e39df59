import Foundation
import Testing
@testable import GGUF

@Suite struct GGUFWriterTests {
    @Test(arguments: Fixture.roundTrip)
    func roundTripIsByteIdentical(_ name: String) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let file = try GGUFFile(path: Fixture.path(name))
        let out = dir.file(name)
        try rewrite(file, to: out)
        #expect(sameBytes(out, Fixture.path(name)))
        #expect(dir.contents() == [name])  // no temporary file left behind
    }

    @Test func writesLlamaCppLayoutForNewData() throws {
        // Two tensors, alignment 32: offsets 0 and 64 (40 bytes padded), data padded with zeros,
        // header bytes as the format prescribes (built independently with ByteBuilder).
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let tensors = [TensorDescriptor(name: "a", shape: [10], type: .f32),
                       TensorDescriptor(name: "b", shape: [32, 1], type: .q8_0)]
        var metadata = Metadata()
        metadata.set("general.architecture", .string("llama"))
        metadata.set("x.empty", .array(.string, []))
        metadata.set("x.flags", .array(.bool, [.bool(false), .bool(true)]))
        let w = try GGUFWriter(path: dir.file("o.gguf"), metadata: metadata, tensors: tensors)
        try w.append([UInt8](repeating: 7, count: 40))
        try w.append([UInt8](repeating: 9, count: 34))
        try w.finish()

        var b = ByteBuilder.header(tensors: 2, pairs: 3)
        b.kvString("general.architecture", "llama")
        b.key("x.empty", type: 9); b.u32(8); b.u64(0)
        b.key("x.flags", type: 9); b.u32(7); b.u64(2); b.raw([0, 1])
        b.tensor("a", shape: [10], type: 0, offset: 0)
        b.tensor("b", shape: [32, 1], type: 8, offset: 64)
        b.pad(to: 32)
        b.raw([UInt8](repeating: 7, count: 40)); b.pad(to: 32)
        b.raw([UInt8](repeating: 9, count: 34)); b.pad(to: 32)
        #expect(readBytes(dir.file("o.gguf")) == b.bytes)

        let back = try GGUFFile(path: dir.file("o.gguf"))
        #expect(back.metadata == metadata)
        #expect(back.tensors.map(\.descriptor) == tensors)
    }

    /// Where the tests write large files: the temporary directory (on Linux usually a disk, where the
    /// writer bypasses the page cache) and, where it exists, tmpfs (which refuses direct I/O on older
    /// kernels).
    static let largeFileParents = [FileManager.default.temporaryDirectory.path] + (FileManager.default.fileExists(atPath: "/dev/shm") ? ["/dev/shm"] : [])

    @Test(arguments: largeFileParents)
    func tensorsLargerThanTheBufferStreamThrough(_ parent: String) throws {
        // Around a small tensor, tensors larger than the 8 MiB buffer and smaller ones: full buffers
        // written at unaligned tensor offsets, and a last write that is not a whole page.
        let dir = TemporaryDirectory(in: parent)
        defer { dir.remove() }
        let sizes = [9 << 20, 12, 7 << 20, 3 << 20, 1000]
        let tensors = sizes.enumerated().map { TensorDescriptor(name: "t\($0)", shape: [$1 / 4], type: .f32) }
        let w = try GGUFWriter(path: dir.file("big.gguf"), metadata: [:], tensors: tensors)
        let payloads = sizes.enumerated().map { i, n in
            var p = [UInt8](repeating: UInt8(i + 1), count: n)
            p[0] = 0xA0; p[n - 1] = 0xB0; p[n / 2] = 0xC0
            return p
        }
        for p in payloads { try w.append(p) }
        try w.finish()
        let file = try GGUFFile(path: dir.file("big.gguf"))
        #expect(file.tensors.map(\.offset) == [0, 9 << 20, (9 << 20) + 32, (16 << 20) + 32, (19 << 20) + 32])
        for (t, p) in zip(file.tensors, payloads) {
            let same = file.withBytes(of: t) { Array($0) } == p  // kept out of #expect: a failure would print megabytes
            #expect(same, "\(t.name)")
        }
        // The file ends after the last tensor's padding: no page-size padding of the last write is left.
        let size = try FileManager.default.attributesOfItem(atPath: dir.file("big.gguf"))[.size] as? Int
        #expect(size == file.dataOffset + (19 << 20) + 32 + 1024)
        #expect(dir.contents() == ["big.gguf"])
    }

    /// Both ways of writing give the same file, at every size around the buffer's and a page's edges:
    /// direct writes (a padded last write, truncated back) and writes through the page cache.
    @Test(arguments: [true, false])
    func outputFileWritesTheSameBytesEitherWay(_ directIO: Bool) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let capacity = OutputFile.bufferCapacity
        let pattern = (0 ..< 3_000_100).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        for size in [0, 1, 4095, 4096, 4097, capacity - 1, capacity, capacity + 1, 2 * capacity + 12345] {
            let path = dir.file("o-\(size).bin")
            let file = try OutputFile(path: path, directIO: directIO)
            var expected = [UInt8]()
            var left = size, step = 0
            while left > 0 {  // uneven pieces, bytes and zeros
                let n = min(left, [1, 4000, 100_000, 3_000_000][step % 4])
                if step % 3 == 2 {
                    try file.appendZeros(n)
                    expected += [UInt8](repeating: 0, count: n)
                } else {
                    let piece = Array(pattern[step % 97 ..< step % 97 + n])
                    try piece.withUnsafeBytes { raw in try file.append(raw) }
                    expected += piece
                }
                left -= n
                step += 1
            }
            try file.syncAndClose()
            try file.commit()
            let written = readBytes(path)
            #expect(written.count == size, "size \(size)")
            let same = written == expected  // kept out of #expect: a failure would print megabytes
            #expect(same, "size \(size)")
        }
        #expect(dir.contents().allSatisfy { $0.hasPrefix("o-") })
    }

    /// Bytes handed over in a page-aligned region reach the file unchanged, written from the region when
    /// they sit at the file's page phase and copied when they do not, between bytes appended the usual
    /// way (so the buffer holds less than a page, a page, or several pages before them).
    @Test(arguments: [true, false])
    func outputFileWritesRegionsInPlace(_ directIO: Bool) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let page = DirectIO.alignment
        let region = UnsafeMutableRawBufferPointer.allocate(byteCount: page + 310_000, alignment: page)
        defer { region.deallocate() }
        let path = dir.file("regions.bin")
        let file = try OutputFile(path: path, directIO: directIO)
        var expected = [UInt8](), length = 0
        let steps: [(plain: Int, region: Int, atPhase: Bool)] = [
            (0, 100_000, true), (10, 4095, true), (0, 4096, true), (3, 4097, true), (9000, 300_017, true),
            (1, 5000, false), (70_000, 12_288, true), (0, 1, true), (4096, 8191, true),
        ]
        for (k, step) in steps.enumerated() {
            let plain = (0 ..< step.plain).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ k) }
            try plain.withUnsafeBytes { raw in try file.append(raw) }
            expected += plain
            length += step.plain
            let offset = step.atPhase ? length % page : (length + 1) % page
            let bytes = (0 ..< step.region).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ k) }
            region.initializeMemory(as: UInt8.self, repeating: 0xEE)  // bytes before the offset: the file's to overwrite
            bytes.withUnsafeBytes { region.baseAddress!.advanced(by: offset).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            try file.append(region: region, offset: offset, count: step.region)
            expected += bytes
            length += step.region
        }
        try file.syncAndClose()
        try file.commit()
        let written = readBytes(path)
        #expect(written.count == expected.count)
        let same = written == expected  // kept out of #expect: a failure would print megabytes
        #expect(same)
    }

    @Test func droppingTrailingOnesMatchesGGMLNDims() {
        #expect(TensorDescriptor(name: "x", shape: [256, 1], type: .f32).droppingTrailingOnes().shape == [256])
        #expect(TensorDescriptor(name: "x", shape: [1, 1, 1], type: .f32).droppingTrailingOnes().shape == [1])
        #expect(TensorDescriptor(name: "x", shape: [4, 1, 3, 1], type: .f32).droppingTrailingOnes().shape == [4, 1, 3])
        #expect(TensorDescriptor(name: "x", shape: [256, 2], type: .q4_K).byteCount == 288)
        #expect(TensorDescriptor(name: "x", shape: [100], type: .q4_K).byteCount == 0)
    }

    @Test func refusesToOverwriteAnInput() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let input = dir.write(readBytes(Fixture.path("adapter-x.gguf")), to: "in.gguf")
        let file = try GGUFFile(path: input)
        #expect(throws: GGUFError.wouldOverwriteInput(path: input, input: input)) { try rewrite(file, to: input) }
        // Through a symbolic link and a hard link, and a relative spelling.
        try FileManager.default.createSymbolicLink(atPath: dir.file("link.gguf"), withDestinationPath: input)
        #expect(throws: GGUFError.wouldOverwriteInput(path: dir.file("link.gguf"), input: input)) {
            try rewrite(file, to: dir.file("link.gguf"))
        }
        try FileManager.default.linkItem(atPath: input, toPath: dir.file("hard.gguf"))
        #expect(throws: GGUFError.wouldOverwriteInput(path: dir.file("hard.gguf"), input: input)) {
            try rewrite(file, to: dir.file("hard.gguf"))
        }
        #expect(throws: GGUFError.wouldOverwriteInput(path: dir.path + "/./in.gguf", input: input)) {
            try rewrite(file, to: dir.path + "/./in.gguf")
        }
        // A split output whose second shard is an input.
        let shard2 = dir.write([1, 2, 3], to: "out-00002-of-00003.gguf")
        #expect(throws: GGUFError.wouldOverwriteInput(path: shard2, input: shard2)) {
            let w = try GGUFWriter(path: dir.file("out.gguf"), metadata: file.metadata, tensors: file.tensors.map(\.descriptor),
                                   split: .maxTensors(10), protecting: [input, shard2])
            w.cancel()
        }
        #expect(sameBytes(input, Fixture.path("adapter-x.gguf")))
        #expect(readBytes(shard2) == [1, 2, 3])
        #expect(dir.contents() == ["hard.gguf", "in.gguf", "link.gguf", "out-00002-of-00003.gguf"])
    }

    @Test func unfinishedWriterLeavesNothing() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let file = try GGUFFile(path: Fixture.path("base-Q8_0.gguf"))
        let out = dir.file("out.gguf")
        let existing = dir.write([42], to: "existing.gguf")
        for target in [out, existing] {
            do {
                let w = try GGUFWriter(path: target, metadata: file.metadata, tensors: file.tensors.map(\.descriptor))
                try file.withBytes(of: file.tensors[0]) { try w.append($0) }
                #expect(dir.contents().contains(".\((target as NSString).lastPathComponent).tmp-\(getpid())"))
                #expect(throws: GGUFError.tensorCountMismatch(path: target, written: 1, expected: 21)) { try w.finish() }
            }  // released here: the temporary file must go
            #expect(dir.contents() == ["existing.gguf"])
            #expect(readBytes(existing) == [42])
        }
    }

    @Test func wrongSizesAndCounts() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let out = dir.file("o.gguf")
        let w = try GGUFWriter(path: out, metadata: [:], tensors: [TensorDescriptor(name: "a", shape: [4], type: .f32)])
        #expect(throws: GGUFError.wrongTensorSize(path: out, tensor: "a", expected: 16, actual: 15)) {
            try w.append([UInt8](repeating: 0, count: 15))
        }
        try w.append([UInt8](repeating: 1, count: 16))  // still usable after a wrong size
        #expect(throws: GGUFError.tensorCountMismatch(path: out, written: 2, expected: 1)) { try w.append([1]) }
        try w.finish()
        #expect(throws: GGUFError.writerClosed(path: out)) { try w.finish() }
        #expect(try GGUFFile(path: out).tensors.count == 1)

        let c = try GGUFWriter(path: dir.file("c.gguf"), metadata: [:], tensors: [])
        c.cancel()
        #expect(throws: GGUFError.writerClosed(path: dir.file("c.gguf"))) { try c.finish() }
        #expect(dir.contents() == ["o.gguf"])
    }

    @Test func cannotCreate() {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let out = dir.file("missing/o.gguf")
        #expect {
            try GGUFWriter(path: out, metadata: [:], tensors: [])
        } throws: { e in
            guard case .cannotCreate(out, let reason) = e as? GGUFError else { return false }
            return reason.hasSuffix("No such file or directory")
        }
    }

    @Test func rejectsWhatCannotBeWritten() {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let out = dir.file("o.gguf")
        func reason(metadata: Metadata = [:], tensors: [TensorDescriptor] = [], alignment: Int = 32,
                    version: UInt32 = 3, split: SplitPolicy? = nil) -> String? {
            do {
                _ = try GGUFWriter(path: out, metadata: metadata, tensors: tensors, alignment: alignment, version: version, split: split)
                return nil
            } catch {
                guard case .invalidOutput(out, let r) = error else { return "unexpected \(error)" }
                return r
            }
        }
        let f = TensorDescriptor(name: "a", shape: [4], type: .f32)
        #expect(reason(metadata: ["k": .array(.array, [])]) == "key 'k' is an array of arrays, which GGUF readers reject")
        #expect(reason(metadata: ["k": .array(.uint32, [.string("x")])]) == "key 'k' is an array of u32 holding a str")
        #expect(reason(metadata: ["general.alignment": .uint32(64)]) == "general.alignment is 64 (u32) but the writer's alignment is 32")
        #expect(reason(metadata: ["general.alignment": .uint64(32)]) != nil)
        #expect(reason(alignment: 48) == "alignment 48 is not a power of two that fits in u32")
        #expect(reason(version: 1) == "GGUF version 1 cannot be written (only 2 and 3)")
        #expect(reason(tensors: [f, f]) == "duplicate tensor name 'a'")
        #expect(reason(tensors: [TensorDescriptor(name: String(repeating: "n", count: 64), shape: [4], type: .f32)]) != nil)
        #expect(reason(tensors: [TensorDescriptor(name: "q", shape: [16], type: .q8_0)]) == "tensor 'q' has shape [16], invalid for type Q8_0")
        #expect(reason(tensors: [TensorDescriptor(name: "z", shape: [4, 0], type: .f32)]) != nil)
        #expect(reason(tensors: [TensorDescriptor(name: "d", shape: [1, 1, 1, 1, 1], type: .f32)]) != nil)
        #expect(reason(tensors: [f], split: .maxTensors(0)) == "split limit 0 must be positive")
        #expect(dir.contents().isEmpty)
    }

    @Test func metadataSetMovesKeyToTheEnd() {
        // llama.cpp's gguf_set_val_*: remove, then append.
        var m: Metadata = ["a": .uint32(1), "b": .uint32(2), "c": .uint32(3)]
        m.set("a", .uint32(4))
        #expect(m.keys == ["b", "c", "a"])
        #expect(m["a"] == .uint32(4) && m["b"] == .uint32(2))
        m.remove("c")
        #expect(m.keys == ["b", "a"] && m["c"] == nil && m["a"] == .uint32(4))
        m.remove("zz")
        #expect(m.count == 2)
        #expect(Array(m.map(\.key)) == ["b", "a"])
        #expect(MetadataValue.float32(.nan) == .float32(.nan))
        #expect(MetadataValue.float64(-0.0) != .float64(0.0))
        #expect(MetadataValue.uint64(.max).int == nil && MetadataValue.int8(-3).int == -3)
        #expect(MetadataValue.float32(0.5).double == 0.5 && MetadataValue.uint16(7).double == 7)
    }
}
