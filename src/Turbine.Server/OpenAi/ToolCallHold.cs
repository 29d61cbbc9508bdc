using Turbine.Llm.Tools;

namespace Turbine.Server.OpenAi;

/// <summary>
/// Streams a choice's text while holding back what may be tool calls: text that could begin a call's marker waits until
/// it is known not to, and once a call has begun everything after it waits for the end, when it is parsed.
/// </summary>
internal sealed class ToolCallHold(ToolCallParser parser)
{
    private string _held = string.Empty;
    private bool _inCalls;

    /// <summary>The text that can be sent now.</summary>
    public string Add(string text)
    {
        _held += text;
        if (_inCalls)
        {
            return string.Empty;
        }

        var start = parser.StartOf(_held);
        var safe = start >= 0 ? start : parser.MayStartAt(_held);
        _inCalls = start >= 0;
        var send = _held[..safe];
        _held = _held[safe..];
        return send;
    }

    /// <summary>At the end: the text still held that turned out not to be calls, and the calls.</summary>
    public (string Remaining, IReadOnlyList<ToolCall> Calls) Finish()
    {
        var (content, calls) = parser.Parse(_held);
        var rest = calls.Count > 0 ? content ?? string.Empty : _held;
        _held = string.Empty;
        return (rest, calls);
    }
}
