import CascadeDomain

/// JSONParser over any bytes. Beyond not crashing:
/// - a refusal points inside the input (its offset is quoted in dead letters);
/// - what parses, written back with JSONWriter, is no longer than it came (the writer's promise,
///   JSONValue.appendEscaped: a downstream request's input stays within the report's size),
///   parses again to an equal value with an equal hash, and writes the same bytes again;
/// - numbers compare by value (JSONValue's contract): every number equals, with an equal
///   hash, the same number spelled with one more trailing zero in its fraction (unless its
///   exponent needs more than 18 digits: those compare as text, by design).
func fuzzJSON(_ data: UnsafeRawBufferPointer) {
    let input = Array(data)
    let value: JSONValue
    do {
        value = try JSONParser.parse(input)
    } catch {
        require((0...input.count).contains(error.offset), "offset \(error.offset) outside \(input.count) bytes")
        return
    }
    var writer = JSONWriter()
    writer.value(value)
    let written = writer.bytes
    require(written.count <= input.count, "written back longer (\(written.count)) than read (\(input.count)): \(show(written))")
    let again: JSONValue
    do {
        again = try JSONParser.parse(written)
    } catch {
        fatalError("invariant broken: written JSON does not parse (\(error)): \(show(written))")
    }
    require(again == value, "reparsed value differs: \(show(written))")
    require(again.hashValue == value.hashValue, "equal values, different hashes: \(show(written))")
    require(again.jsonBytes == written, "second write differs from the first: \(show(written))")
    checkNumbers(in: value)
}

private func checkNumbers(in value: JSONValue) {
    switch value {
    // DecimalValue compares literals whose exponent does not fit an Int as text, by design.
    case .number(let literal) where literal.split(whereSeparator: { $0 == "e" || $0 == "E" }).dropFirst().first.map({ $0.count <= 18 }) ?? true:
        let respelled = JSONValue.number(withExtraTrailingZero(literal))
        require(value == respelled && respelled == value, "\(literal) != \(respelled)")
        require(value.hashValue == respelled.hashValue, "\(literal) and \(respelled) hash differently")
    case .array(let items): items.forEach(checkNumbers)
    case .object(let members): members.forEach { checkNumbers(in: $0.value) }
    case .null, .bool, .string, .number: break
    }
}

/// "12" -> "12.0", "1.5e3" -> "1.50e3": the same value, another spelling.
private func withExtraTrailingZero(_ literal: String) -> String {
    let exponentStart = literal.firstIndex { $0 == "e" || $0 == "E" } ?? literal.endIndex
    let mantissa = literal[..<exponentStart], exponent = literal[exponentStart...]
    return String(mantissa) + (mantissa.contains(".") ? "0" : ".0") + String(exponent)
}
