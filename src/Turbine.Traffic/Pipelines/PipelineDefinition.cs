namespace Turbine.Traffic.Pipelines;

/// <summary>
/// A pipeline: a public model name whose requests run through steps that pass tensors to each other by name, like
/// Triton's ensembles, plus switch, cascade and aggregation steps. The pipeline's inputs are the tensors its steps
/// consume that no step produces; steps whose inputs are ready run in parallel.
/// </summary>
/// <param name="Name">The name clients call.</param>
/// <param name="Steps">The steps, in any order: tensors, not positions, decide what runs after what.</param>
/// <param name="Outputs">The tensors the pipeline answers with.</param>
public sealed record PipelineDefinition(string Name, IReadOnlyList<PipelineStep> Steps, IReadOnlyList<string> Outputs);

/// <summary>A model (and optionally a version or label) that a step calls.</summary>
public sealed record ModelTarget(string Model, string? Version)
{
    public override string ToString() => Version is null ? Model : Model + ":" + Version;
}

/// <summary>One step of a pipeline: what it consumes and what it produces, by pipeline tensor name.</summary>
public abstract record PipelineStep(string Name)
{
    /// <summary>The pipeline tensors the step reads.</summary>
    public abstract IEnumerable<string> Consumes { get; }

    /// <summary>The pipeline tensors the step writes.</summary>
    public abstract IEnumerable<string> Produces { get; }

    /// <summary>How statistics name the kind of step: model, switch, cascade or aggregate.</summary>
    public abstract string Kind { get; }
}

/// <summary>
/// A step that calls a model. Maps use Triton's direction: <see cref="InputMap"/> goes from the model's input name to
/// the pipeline tensor fed to it, <see cref="OutputMap"/> from the model's output name to the pipeline tensor it becomes.
/// </summary>
public abstract record ModelCallStep(string Name, IReadOnlyDictionary<string, string> InputMap, IReadOnlyDictionary<string, string> OutputMap) : PipelineStep(Name)
{
    public override IEnumerable<string> Consumes => InputMap.Values;

    public override IEnumerable<string> Produces => OutputMap.Values;
}

/// <summary>Calls one model.</summary>
public sealed record ModelStep(string Name, ModelTarget Target, IReadOnlyDictionary<string, string> InputMap, IReadOnlyDictionary<string, string> OutputMap)
    : ModelCallStep(Name, InputMap, OutputMap)
{
    public override string Kind => "model";
}

/// <summary>
/// Calls the model that a value picks: a request parameter (<see cref="Parameter"/>) or the first element of a
/// pipeline tensor (<see cref="Tensor"/>: an integer, a boolean or a string). A value with no case goes to
/// <see cref="Default"/>, or fails the request with 400 when there is none.
/// </summary>
public sealed record SwitchStep(
    string Name, string? Parameter, string? Tensor, IReadOnlyDictionary<string, ModelTarget> Cases, ModelTarget? Default,
    IReadOnlyDictionary<string, string> InputMap, IReadOnlyDictionary<string, string> OutputMap) : ModelCallStep(Name, InputMap, OutputMap)
{
    public override IEnumerable<string> Consumes => Tensor is null ? InputMap.Values : InputMap.Values.Append(Tensor);

    public override string Kind => "switch";
}

/// <summary>One model of a cascade; all but the last have the confidence at which their answer stands.</summary>
public sealed record CascadeStage(ModelTarget Target, double? Threshold);

/// <summary>
/// Calls its stages in order, cheapest first, and stops at the first whose confidence reaches its threshold: the
/// confidence of an answer is the lowest, over its rows, of the largest value along the last axis of the model output
/// <see cref="ConfidenceOutput"/> (a probability per class). The last stage always answers.
/// </summary>
public sealed record CascadeStep(
    string Name, IReadOnlyList<CascadeStage> Stages, string ConfidenceOutput,
    IReadOnlyDictionary<string, string> InputMap, IReadOnlyDictionary<string, string> OutputMap) : ModelCallStep(Name, InputMap, OutputMap)
{
    public override string Kind => "cascade";
}

/// <summary>How an aggregation combines its inputs.</summary>
public enum AggregateMethod
{
    /// <summary>The element-wise mean of same-shaped FP32 or FP64 tensors.</summary>
    Average,
    /// <summary>
    /// The majority class per row: of integer label tensors, or of the argmax along the last axis of score tensors;
    /// ties go to the class with the larger summed score (or the smaller label).
    /// </summary>
    Vote,
}

/// <summary>Combines several pipeline tensors into one, in process (no model call).</summary>
public sealed record AggregateStep(string Name, AggregateMethod Method, IReadOnlyList<string> Inputs, string Output) : PipelineStep(Name)
{
    public override IEnumerable<string> Consumes => Inputs;

    public override IEnumerable<string> Produces => [Output];

    public override string Kind => "aggregate";
}
