import Foundation

/// Fast local heuristics about a request (well under a millisecond): its task class, whether it
/// carries private data, and whether it is one of Open WebUI's background tasks.
public enum RequestClassifier {
    /// `code`, `summarization`, `classification`, `reasoning`, `analysis`, `simple` or `general`.
    public static func task(of request: ChatRequest) -> String {
        let text = request.lastUserText.lowercased()
        if text.contains("```") || containsAny(text, ["write a function", "refactor", "stack trace", "compile", "syntax error", "unit test", "python", "swift", "javascript", "typescript", "rust code", "sql query", "regex", "debug this", "bug in", "code"]) {
            return "code"
        }
        if containsAny(text, ["summarize", "summarise", "summary", "tl;dr", "tldr", "condense"]) { return "summarization" }
        if containsAny(text, ["classify", "categorize", "categorise", "sentiment", "label this", "which category"]) { return "classification" }
        if containsAny(text, ["step by step", "prove", "reason about", "why does", "why is", "solve", "puzzle", "derive"]) { return "reasoning" }
        if containsAny(text, ["analyze", "analyse", "analysis", "compare", "evaluate", "trade-off", "tradeoff", "pros and cons"]) { return "analysis" }
        if text.count < 200, request.messages.count <= 3, request.tools.isEmpty { return "simple" }
        return "general"
    }

    static func containsAny(_ text: String, _ needles: [String]) -> Bool { needles.contains { text.contains($0) } }

    /// Open WebUI's title/tags/follow-up/search-query/autocomplete prompts ("### Task:" templates).
    public static func backgroundTask(of request: ChatRequest) -> String? {
        let text = request.lastUserText
        guard text.contains("### Task:") else { return nil }
        let lower = text.lowercased()
        if lower.contains("title") { return "title" }
        if lower.contains("tags") { return "tags" }
        if lower.contains("follow-up") || lower.contains("follow_ups") { return "follow_ups" }
        if lower.contains("search queries") || lower.contains("search query") { return "search_query" }
        if lower.contains("autocomplet") { return "autocomplete" }
        return "task"
    }

    // MARK: - Private data

    nonisolated(unsafe) static let patterns: [(String, NSRegularExpression)] = [
        ("private_key", try! NSRegularExpression(pattern: #"-----BEGIN [A-Z ]*PRIVATE KEY-----"#)),
        ("api_key", try! NSRegularExpression(pattern: #"\b(sk-(ant-|proj-)?[A-Za-z0-9_-]{16,}|AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,}|xox[abpr]-[A-Za-z0-9-]{10,}|AIza[0-9A-Za-z_-]{35}|glpat-[A-Za-z0-9_-]{20,})"#)),
        ("bearer_token", try! NSRegularExpression(pattern: #"\b(?i:bearer|token|password|passwd|secret)\s*[:=]\s*\S{8,}"#)),
        ("jwt", try! NSRegularExpression(pattern: #"\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"#)),
        ("email", try! NSRegularExpression(pattern: #"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"#)),
        ("iban", try! NSRegularExpression(pattern: #"\b[A-Z]{2}[0-9]{2}(?:\s?[A-Z0-9]{4}){3,7}(?:\s?[A-Z0-9]{1,4})?\b"#)),
        ("phone", try! NSRegularExpression(pattern: #"(?<![\w.])\+?\d{1,3}[\s.-]?\(?\d{2,4}\)?[\s.-]?\d{3,4}[\s.-]?\d{3,4}(?![\w.])"#)),
    ]
    nonisolated(unsafe) static let cardPattern = try! NSRegularExpression(pattern: #"\b(?:\d[ -]?){13,19}\b"#)

    /// The kinds of private data found in any message (never the data itself).
    public static func privateData(in request: ChatRequest) -> [String] {
        let text = request.allText
        var found: [String] = []
        let range = NSRange(text.startIndex..., in: text)
        for (kind, regex) in patterns where regex.firstMatch(in: text, range: range) != nil { found.append(kind) }
        for match in cardPattern.matches(in: text, range: range) {
            guard let r = Range(match.range, in: text) else { continue }
            if luhn(text[r].filter(\.isNumber)) { found.append("card_number"); break }
        }
        return found
    }

    static func luhn(_ digits: String) -> Bool {
        guard (13...19).contains(digits.count) else { return false }
        var sum = 0
        for (i, ch) in digits.reversed().enumerated() {
            guard var d = ch.wholeNumberValue else { return false }
            if i % 2 == 1 { d *= 2; if d > 9 { d -= 9 } }
            sum += d
        }
        return sum % 10 == 0
    }

    /// Identifies a conversation across turns: the first user message (Open WebUI resends history).
    public static func conversationKey(_ request: ChatRequest) -> String? {
        guard let first = request.messages.first(where: { $0["role"]?.stringValue == "user" }) else { return nil }
        var hasher = Hasher()
        hasher.combine(ChatRequest.text(of: first))
        return String(hasher.finalize())
    }
}
