import NIOCore
import NIOHTTP1
import NIOPosix

/// A response read in full: its status and body.
struct HTTPReply: Sendable {
    var status: Int
    var body: ByteBuffer
}

/// Why an exchange produced no response.
enum HTTPExchangeError: Error, CustomStringConvertible {
    case connectionClosed
    case timedOut(seconds: Double)
    case poolClosed

    var description: String {
        switch self {
        case .connectionClosed: "the server closed the connection before answering"
        case let .timedOut(seconds): "no answer within \(seconds) s"
        case .poolClosed: "the client was closed"
        }
    }
}

/// A minimal HTTP/1.1 client for load generation: persistent (keep-alive) connections to one
/// host, one request at a time per connection (no pipelining), and a new connection whenever every
/// open one is busy, up to `maxConnections`; past that, requests wait for the first free one.
///
/// All state lives on one event loop, so there are no locks: `execute` hops onto the loop; the
/// pool, its connections and their handlers are only touched there.
final class HTTPConnectionPool: @unchecked Sendable {
    let loop: any EventLoop
    let host: String
    let port: Int
    let maxConnections: Int
    let timeout: TimeAmount

    // Loop-confined state.
    private var idle: [ExchangeHandler] = []
    private var waiting = CircularBuffer<Exchange>()
    private var openCount = 0          // connected or connecting
    private var connecting = 0
    private var isClosed = false
    private var live: [ObjectIdentifier: any Channel] = [:]
    private var opened = 0

    /// Runs Swift tasks on `loop` (see `HTTPTarget.preferredExecutor`).
    let executor: EventLoopTaskExecutor

    init(host: String, port: Int, maxConnections: Int, timeout: TimeAmount, loop: any EventLoop) {
        (self.host, self.port, self.maxConnections, self.timeout, self.loop) = (host, port, max(1, maxConnections), timeout, loop)
        executor = EventLoopTaskExecutor(loop: loop)
    }

    /// Sends `head` + `body` and returns the full response; fails with the transport error (refused
    /// connection, closed connection, `timeout`). Any HTTP status is a response, not an error.
    func execute(head: HTTPRequestHead, body: ByteBuffer) async throws -> HTTPReply {
        let promise = loop.makePromise(of: HTTPReply.self)
        if loop.inEventLoop {   // a task on `executor`: no hop
            enqueue(Exchange(head: head, body: body, promise: promise))
        } else {
            loop.execute { self.enqueue(Exchange(head: head, body: body, promise: promise)) }
        }
        return try await promise.futureResult.get()
    }

    /// Connections opened so far (each stays open for reuse until the server closes it or `close`).
    func connectionsOpened() async -> Int {
        (try? await loop.submit { self.opened }.get()) ?? 0
    }

    /// Fails waiting requests and closes every connection.
    func close() async {
        let channels = try? await loop.submit { () -> [any Channel] in
            self.isClosed = true
            while let exchange = self.waiting.popFirst() { exchange.fail(HTTPExchangeError.poolClosed) }
            return Array(self.live.values)
        }.get()
        for channel in channels ?? [] { try? await channel.close() }
    }

    // MARK: - On the loop

    private func enqueue(_ exchange: Exchange) {
        loop.preconditionInEventLoop()
        if isClosed { return exchange.fail(HTTPExchangeError.poolClosed) }
        let timeout = self.timeout
        exchange.timer = loop.assumeIsolated().scheduleTask(in: timeout) { [weak exchange] in
            guard let exchange, !exchange.isDone else { return }
            exchange.fail(HTTPExchangeError.timedOut(seconds: Double(timeout.nanoseconds) / 1e9))
            exchange.onTimeout?()   // closes the connection it was sent on, if any
        }
        waiting.append(exchange)
        pump()
    }

    /// Hands waiting exchanges to idle connections, and opens connections for the rest while
    /// under the cap.
    private func pump() {
        while !waiting.isEmpty {
            if let connection = idle.popLast() {
                guard let exchange = nextWaiting() else { idle.append(connection); return }
                connection.start(exchange)
            } else {
                if waiting.count > connecting, openCount < maxConnections { connect() } else { return }
            }
        }
    }

    private func nextWaiting() -> Exchange? {
        while let exchange = waiting.popFirst() {
            if !exchange.isDone { return exchange }
        }
        return nil
    }

    private func connect() {
        openCount += 1
        connecting += 1
        opened += 1
        ClientBootstrap(group: loop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(ExchangeHandler(pool: self))
                }
            }
            .connect(host: host, port: port)
            .assumeIsolated()
            .whenComplete { result in
                self.connecting -= 1
                switch result {
                case let .success(channel):
                    if self.isClosed || !channel.isActive {
                        channel.close(promise: nil)
                        self.pump()
                        return
                    }
                    self.live[ObjectIdentifier(channel)] = channel
                    if let handler = try? channel.pipeline.syncOperations.handler(type: ExchangeHandler.self) { self.release(handler) }
                case let .failure(error):
                    self.openCount -= 1
                    // The oldest waiting request gets the error (e.g. connection refused).
                    self.nextWaiting()?.fail(error)
                    self.pump()
                }
            }
    }

    /// A connection finished its exchange and may take the next one.
    fileprivate func release(_ handler: ExchangeHandler) {
        if let exchange = nextWaiting() { handler.start(exchange) } else { idle.append(handler) }
    }

    /// A connection closed (server, error or timeout).
    fileprivate func closed(_ handler: ExchangeHandler, channel: any Channel) {
        openCount -= 1
        live[ObjectIdentifier(channel)] = nil
        idle.removeAll { $0 === handler }
        pump()
    }
}

/// One request and the promise of its response.
final class Exchange {
    let head: HTTPRequestHead
    let body: ByteBuffer
    let promise: EventLoopPromise<HTTPReply>
    var timer: Scheduled<Void>?
    var onTimeout: (() -> Void)?
    private(set) var isDone = false

    init(head: HTTPRequestHead, body: ByteBuffer, promise: EventLoopPromise<HTTPReply>) {
        (self.head, self.body, self.promise) = (head, body, promise)
    }

    func succeed(_ reply: HTTPReply) {
        guard !isDone else { return }
        isDone = true
        timer?.cancel()
        promise.succeed(reply)
    }

    func fail(_ error: any Error) {
        guard !isDone else { return }
        isDone = true
        timer?.cancel()
        promise.fail(error)
    }
}

/// One connection's end of the pool: writes a request, collects its response, reports back.
final class ExchangeHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private let pool: HTTPConnectionPool
    private var context: ChannelHandlerContext?
    private var current: Exchange?
    private var status = 0
    private var body: ByteBuffer?
    private var keepAlive = true

    init(pool: HTTPConnectionPool) { self.pool = pool }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func start(_ exchange: Exchange) {
        guard let context else { return exchange.fail(HTTPExchangeError.connectionClosed) }
        current = exchange
        (status, body, keepAlive) = (0, nil, true)
        exchange.onTimeout = { [weak self] in self?.context?.close(promise: nil) }
        context.write(wrapOutboundOut(.head(exchange.head)), promise: nil)
        if exchange.body.readableBytes > 0 { context.write(wrapOutboundOut(.body(.byteBuffer(exchange.body))), promise: nil) }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case let .head(head):
            status = Int(head.status.code)
            keepAlive = head.isKeepAlive
        case var .body(part):
            if body == nil { body = part } else { body!.writeBuffer(&part) }
        case .end:
            guard let exchange = current else { return }
            current = nil
            exchange.onTimeout = nil
            let reply = HTTPReply(status: status, body: body ?? ByteBuffer())
            body = nil
            if exchange.isDone || !keepAlive {
                // Timed out meanwhile, or the server will close: do not reuse.
                context.close(promise: nil)
            } else {
                pool.release(self)
            }
            exchange.succeed(reply)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        current?.fail(HTTPExchangeError.connectionClosed)
        current = nil
        pool.closed(self, channel: context.channel)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        current?.fail(error)
        current = nil
        context.close(promise: nil)
    }
}

/// A Swift task executor that runs jobs on a NIO event loop.
final class EventLoopTaskExecutor: TaskExecutor, @unchecked Sendable {
    let loop: any EventLoop

    init(loop: any EventLoop) { self.loop = loop }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
