#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore

/// Whether bytes contain a literal: `memchr` for its first byte, then `memcmp`. Hand-written
/// because the standard library's generic `contains`/`firstRange(of:)` on byte collections cost
/// more than the work they guard (the router's privacy check: more than the regular expressions it
/// skips; the gateway's fast-lane body check: 6 % of a call's CPU), and glibc's `memmem` is not
/// visible to Swift.
public enum ByteSearch {
    public static func contains(_ needle: UnsafeBufferPointer<UInt8>, in haystack: UnsafeBufferPointer<UInt8>) -> Bool {
        guard !needle.isEmpty else { return true }
        guard haystack.count >= needle.count, let base = haystack.baseAddress, let first = needle.first else { return false }
        let lastStart = haystack.count - needle.count
        var start = 0
        while start <= lastStart {
            guard let hit = memchr(base + start, Int32(first), lastStart - start + 1) else { return false }
            let offset = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
            if memcmp(base + offset, needle.baseAddress!, needle.count) == 0 { return true }
            start = offset + 1
        }
        return false
    }

    public static func contains(_ needle: [UInt8], in buffer: ByteBuffer) -> Bool {
        buffer.withUnsafeReadableBytes { raw in
            needle.withUnsafeBufferPointer { contains($0, in: raw.bindMemory(to: UInt8.self)) }
        }
    }
}
