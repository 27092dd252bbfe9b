import Foundation
import ServiceKit

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

    /// A pattern for one kind of private data, and what a text must contain for it to match at
    /// all. Why: the regular expressions (ICU through Foundation) cost more than the rest of the
    /// routing decision and pull ICU's regex engine into memory, while most chat text lacks what
    /// they need (an `@`, nine digits, a key prefix); the one-pass check below skips them then.
    struct PrivatePattern: Sendable {
        let kind: String
        /// Compiled on first use (a `static let` behind it), so text that never needs a pattern
        /// never loads ICU's regex engine.
        let regex: @Sendable () -> NSRegularExpression
        let canMatch: @Sendable (TextTraits) -> Bool
    }

    /// What `PrivatePattern.canMatch` looks at, from one pass over the text's UTF-8.
    struct TextTraits {
        let text: String
        var asciiDigits = 0
        /// ICU's `\d` also matches non-ASCII digits: with any non-ASCII text, digit counts prove nothing.
        var nonASCII = false
        var at = false
        var colonOrEquals = false

        init(_ text: String) {
            self.text = text
            for byte in text.utf8 {
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): asciiDigits += 1
                case UInt8(ascii: "@"): at = true
                case UInt8(ascii: ":"), UInt8(ascii: "="): colonOrEquals = true
                case 0x80...: nonASCII = true
                default: break
                }
            }
        }

        /// A byte search (`ByteSearch`, see why there).
        func contains(_ literal: String) -> Bool {
            var haystack = text
            var needle = literal
            return haystack.withUTF8 { h in needle.withUTF8 { n in ByteSearch.contains(n, in: h) } }
        }

        /// At least `count` characters that `\d` matches may be present.
        func mayHaveDigits(_ count: Int) -> Bool { nonASCII || asciiDigits >= count }
    }

    static let apiKeyPrefixes = ["sk-", "AKIA", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "xox", "AIza", "glpat-"]

    static let patterns: [PrivatePattern] = [
        PrivatePattern(kind: "private_key", regex: { Regexes.privateKey },
                       canMatch: { $0.contains("-----BEGIN ") }),
        PrivatePattern(kind: "api_key", regex: { Regexes.apiKey },
                       canMatch: { traits in apiKeyPrefixes.contains { traits.contains($0) } }),
        PrivatePattern(kind: "bearer_token", regex: { Regexes.bearerToken },
                       canMatch: { $0.colonOrEquals }),
        PrivatePattern(kind: "jwt", regex: { Regexes.jwt },
                       canMatch: { $0.contains("eyJ") }),
        PrivatePattern(kind: "email", regex: { Regexes.email },
                       canMatch: { $0.at }),
        // Two ASCII digits after the country code: `[0-9]` is ASCII only.
        PrivatePattern(kind: "iban", regex: { Regexes.iban },
                       canMatch: { $0.asciiDigits >= 2 }),
        // At least 1 + 2 + 3 + 3 digits.
        PrivatePattern(kind: "phone", regex: { Regexes.phone },
                       canMatch: { $0.mayHaveDigits(9) }),
    ]
    /// Card numbers: 13 to 19 digits, then the Luhn check.
    static let cardPattern = PrivatePattern(
        kind: "card_number", regex: { Regexes.cardNumber }, canMatch: { $0.mayHaveDigits(13) })

    private enum Regexes {
        static let privateKey = try! NSRegularExpression(pattern: #"-----BEGIN [A-Z ]*PRIVATE KEY-----"#)
        static let apiKey = try! NSRegularExpression(pattern: #"\b(sk-(ant-|proj-)?[A-Za-z0-9_-]{16,}|AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,}|xox[abpr]-[A-Za-z0-9-]{10,}|AIza[0-9A-Za-z_-]{35}|glpat-[A-Za-z0-9_-]{20,})"#)
        static let bearerToken = try! NSRegularExpression(pattern: #"\b(?i:bearer|token|password|passwd|secret)\s*[:=]\s*\S{8,}"#)
        static let jwt = try! NSRegularExpression(pattern: #"\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"#)
        static let email = try! NSRegularExpression(pattern: #"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"#)
        static let iban = try! NSRegularExpression(pattern: #"\b[A-Z]{2}[0-9]{2}(?:\s?[A-Z0-9]{4}){3,7}(?:\s?[A-Z0-9]{1,4})?\b"#)
        static let phone = try! NSRegularExpression(pattern: #"(?<![\w.])\+?\d{1,3}[\s.-]?\(?\d{2,4}\)?[\s.-]?\d{3,4}[\s.-]?\d{3,4}(?![\w.])"#)
        static let cardNumber = try! NSRegularExpression(pattern: #"\b(?:\d[ -]?){13,19}\b"#)
    }

    /// The kinds of private data found in any message (never the data itself).
    public static func privateData(in request: ChatRequest) -> [String] {
        privateData(inText: request.allText)
    }

    /// `skipImpossible: false` runs every regular expression (tests compare both ways).
    static func privateData(inText text: String, skipImpossible: Bool = true) -> [String] {
        let traits = TextTraits(text)
        var found: [String] = []
        let range = NSRange(text.startIndex..., in: text)
        for pattern in patterns where !skipImpossible || pattern.canMatch(traits) {
            if pattern.regex().firstMatch(in: text, range: range) != nil { found.append(pattern.kind) }
        }
        if !skipImpossible || cardPattern.canMatch(traits) {
            for match in cardPattern.regex().matches(in: text, range: range) {
                guard let r = Range(match.range, in: text) else { continue }
                if luhn(text[r].filter(\.isNumber)) { found.append(cardPattern.kind); break }
            }
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
