using System.Globalization;

namespace Turbine.Core.Execution.Sequences;

/// <summary>A sequence's correlation id: an unsigned integer, or a string when the client sent one.</summary>
internal readonly record struct CorrelationId(ulong Number, string? Text)
{
    public override string ToString() => Text ?? Number.ToString(CultureInfo.InvariantCulture);

    /// <summary>The id as messages and logs may show it: a client's string with its control characters escaped.</summary>
    public string ToClientText() => Text is null ? ToString() : ClientText.Quote(Text, SequenceStep.MaxTextLength);
}

/// <summary>
/// Where a request stands in its sequence, from the <c>sequence_id</c>, <c>sequence_start</c> and
/// <c>sequence_end</c> request parameters that Triton's clients send (REST parameters, gRPC parameters alike).
/// </summary>
internal readonly record struct SequenceStep(CorrelationId Id, bool Start, bool End)
{
    public const string IdParameter = "sequence_id";
    public const string StartParameter = "sequence_start";
    public const string EndParameter = "sequence_end";

    /// <summary>The longest string id: a UUID takes 36; a sequence keeps its id for its whole life (SECURITY.md A22).</summary>
    public const int MaxTextLength = 256;

    /// <summary>Reads the step; refuses, in Triton's words where it has them, a request that names no sequence.</summary>
    public static InferenceError? TryRead(InferenceRequest request, ModelConfig config, out SequenceStep step)
    {
        step = default;
        var parameters = request.Parameters;
        object? raw = null;
        parameters?.TryGetValue(IdParameter, out raw);
        CorrelationId id;
        switch (raw)
        {
            case null or 0L or "":
                return InferenceError.Invalid($"inference request to model '{config.Name}' must specify a non-zero or non-empty correlation ID");
            case long number when number > 0:
                id = new CorrelationId((ulong)number, null);
                break;
            case ulong number:
                id = new CorrelationId(number, null);
                break;
            case string { Length: > MaxTextLength }:
                return InferenceError.Invalid($"'{IdParameter}' may be at most {MaxTextLength} characters for model '{config.Name}'");
            case string text:
                id = new CorrelationId(0, text);
                break;
            default:
                return InferenceError.Invalid($"'{IdParameter}' must be a positive integer or a non-empty string for model '{config.Name}'");
        }

        var startError = Flag(parameters, StartParameter, out var start);
        var endError = Flag(parameters, EndParameter, out var end);
        if ((startError ?? endError) is { } badFlag)
        {
            return InferenceError.Invalid($"'{badFlag}' must be true or false for model '{config.Name}'");
        }

        step = new SequenceStep(id, start, end);
        return CheckIdType(config, id);
    }

    /// <summary>A numeric CORRID control cannot carry a string id.</summary>
    private static InferenceError? CheckIdType(ModelConfig config, CorrelationId id)
    {
        foreach (var control in config.SequenceBatching!.Controls)
        {
            if (control.Kind == SequenceControlKind.CorrelationId && control.DataType != DataType.Bytes && id.Text is not null)
            {
                return InferenceError.Invalid(
                    $"inference request to model '{config.Name}' must specify an integer correlation ID: its CONTROL_SEQUENCE_CORRID input '{control.InputName}' is {control.DataType.ToWireName()}");
            }
        }

        return null;
    }

    /// <returns>The parameter's name when it is there but not a boolean; null otherwise.</returns>
    private static string? Flag(Dictionary<string, object>? parameters, string name, out bool value)
    {
        value = false;
        if (parameters is null || !parameters.TryGetValue(name, out var raw))
        {
            return null;
        }

        if (raw is bool flag)
        {
            value = flag;
            return null;
        }

        return name;
    }
}
