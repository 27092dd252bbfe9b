import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import ServiceKit

/// A provider's 2xx response, from whichever client fetched it.
struct UpstreamResponse: Sendable {
    let status: Int
    let headers: HTTPHeaders
    let body: UpstreamBody
}

/// The response body of either client, read as chunks.
enum UpstreamBody: AsyncSequence, Sendable {
    case asyncHTTPClient(HTTPClientResponse.Body)
    case http1(HTTP1Response.Body)

    typealias Element = ByteBuffer

    enum AsyncIterator: AsyncIteratorProtocol {
        case asyncHTTPClient(HTTPClientResponse.Body.AsyncIterator)
        case http1(HTTP1Response.Body.Iterator)

        mutating func next() async throws -> ByteBuffer? {
            switch self {
            case .asyncHTTPClient(var iterator):
                defer { self = .asyncHTTPClient(iterator) }
                return try await iterator.next()
            case .http1(var iterator):
                defer { self = .http1(iterator) }
                return try await iterator.next()
            }
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        switch self {
        case .asyncHTTPClient(let body): .asyncHTTPClient(body.makeAsyncIterator())
        case .http1(let body): .http1(body.makeAsyncIterator())
        }
    }

    func collect(upTo limit: Int) async throws -> ByteBuffer {
        switch self {
        case .asyncHTTPClient(let body): try await body.collect(upTo: limit)
        case .http1(let body): try await body.collect(upTo: limit)
        }
    }
}
