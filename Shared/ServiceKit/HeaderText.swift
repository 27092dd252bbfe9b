/// Header values without the spaces and tabs around them (RFC 9110's optional whitespace), without
/// Foundation's `trimmingCharacters`, which showed in per-request profiles of the token checks.
public enum HeaderText {
    public static func trimmed(_ text: Substring) -> Substring {
        var text = text.drop { $0 == " " || $0 == "\t" }
        while let last = text.last, last == " " || last == "\t" { text = text.dropLast() }
        return text
    }
}
