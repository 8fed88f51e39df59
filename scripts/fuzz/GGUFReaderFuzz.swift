// libFuzzer entry point over the GGUF reader: any bytes must parse or throw a GGUFError, never trap.
// Built by scripts/fuzz/run.sh together with Sources/GGUF (internal access to the parser).

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzGGUFReader(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    guard let header = try? GGUFHeader(parsing: bytes, path: "fuzz.gguf") else { return 0 }
    // A header that parses must describe tensors whose bytes lie inside the input.
    for tensor in header.tensors {
        let start = header.dataOffset + tensor.offset
        precondition(start >= 0 && start + tensor.byteCount <= size, "tensor \(tensor.name) out of bounds")
    }
    return 0
}
