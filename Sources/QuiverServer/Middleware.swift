import Foundation
import Hummingbird

/// Outermost middleware: turns every thrown error into the JSON error response in the route's
/// shape (`ErrorShape`: TEI's on TEI's routes), so no request ends in a bare 500 or a dropped
/// connection, and records each request's route, status and latency.
struct ErrorAndMetricsMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let metrics: ServerMetrics
    /// The methods of each path the router serves. Paths here are reported as themselves in
    /// metrics (anything else is `other`: bounded label values); a request for one of them with
    /// another method is 405 with `Allow`, not 404.
    let methods: [String: [HTTPRequest.Method]]

    init(metrics: ServerMetrics, routes: [(path: String, method: HTTPRequest.Method)]) {
        self.metrics = metrics
        methods = Dictionary(grouping: routes, by: \.path).mapValues { $0.map(\.method) }
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        metrics.requestStarted()
        let response: Response
        let shape = ErrorShape(path: request.uri.path)
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError where error.status == .notFound && !(error is APIError) {
            let route = "\(request.method) \(request.uri.path)"
            if let allowed = methods[request.uri.path], !allowed.contains(request.method) {
                let allow = allowed.map(\.rawValue).joined(separator: ", ")
                response = APIError(.methodNotAllowed, "\(route) is not allowed; \(request.uri.path) takes \(allow).", code: "method_not_allowed")
                    .response(shape: shape, headers: [.allow: allow])
            } else {
                response = APIError.http(.notFound, route: route).response(shape: shape)
            }
        } catch {
            response = APIError(error).response(shape: shape)
        }
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        let path = request.uri.path
        metrics.requestFinished(route: methods[path] != nil ? path : "other", status: response.status.code, seconds: seconds)
        return response
    }
}

/// With an API key: every route but `GET /health` needs `Authorization: Bearer <key>`; else 401.
struct BearerAuthMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let key: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.uri.path == "/health" { return try await next(request, context) }
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer "),
              Self.equalInConstantTime(String(header.dropFirst("Bearer ".count)), key) else {
            throw APIError.unauthorized
        }
        return try await next(request, context)
    }

    /// Compares without stopping at the first difference, so timing does not leak the key.
    static func equalInConstantTime(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var diff = UInt8(x.count == y.count ? 0 : 1)
        for i in 0..<max(x.count, y.count) {
            diff |= (i < x.count ? x[i] : 0) ^ (i < y.count ? y[i] : 0)
        }
        return diff == 0
    }
}
