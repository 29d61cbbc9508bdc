using Turbine.Monitoring.Profiles;

namespace Turbine.Monitoring.Quality;

/// <summary>
/// A model version's data-quality checks, compiled at load from its <c>monitoring.quality</c> section and its
/// reference profile, and run on each request after the schema check (names, types and shapes, which the request
/// validator enforces for every model) and before the request is queued.
/// </summary>
public sealed class QualityRules
{
    private readonly QualityRuleCheck[] _checks;

    private QualityRules(QualityRuleCheck[] checks) => _checks = checks;

    /// <summary>No checks.</summary>
    public static QualityRules None { get; } = new([]);

    /// <summary>The checks, explicit rules first.</summary>
    public IReadOnlyList<QualityRuleCheck> Checks => _checks;

    /// <summary>Whether there is anything to check.</summary>
    public bool IsEmpty => _checks.Length == 0;

    /// <summary>Compiles the rules of <paramref name="settings"/> and those derived from <paramref name="profile"/>; problems go to <paramref name="errors"/>.</summary>
    public static QualityRules Compile(ModelConfig config, FeatureLayout layout, QualitySettings settings, ReferenceProfile? profile, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(errors);
        var checks = new List<QualityRuleCheck>();
        foreach (var rule in settings.Rules)
        {
            AddExplicit(config, layout, rule, checks, errors);
        }

        if (settings.FromProfile is { } policy)
        {
            if (profile is null)
            {
                errors.Add("'monitoring.quality.from_profile' needs the version's reference profile, and there is none");
            }
            else
            {
                AddFromProfile(layout, profile, settings.Tolerance, policy, checks);
            }
        }

        return checks.Count == 0 ? None : new QualityRules([.. checks]);
    }

    /// <summary>
    /// Runs the checks on <paramref name="request"/>: the refusal of the first broken rule whose policy rejects, or
    /// null; rules that flag or log are counted (and handed to <paramref name="logBreak"/>) and the request goes on.
    /// </summary>
    public InferenceError? Screen(InferenceRequest request, Action<QualityRuleCheck, string>? logBreak)
    {
        ArgumentNullException.ThrowIfNull(request);
        foreach (var check in _checks) // an array: no enumerator allocated on the request path
        {
            var tensor = Find(request.Inputs, check.Tensor);
            if (tensor is null || check.Check(tensor) is not { } broken)
            {
                continue;
            }

            switch (check.Policy)
            {
                case QualityPolicy.Reject:
                    return InferenceError.Invalid(broken);
                case QualityPolicy.Log:
                    logBreak?.Invoke(check, broken);
                    break;
            }
        }

        return null;
    }

    private static void AddExplicit(ModelConfig config, FeatureLayout layout, QualityRule rule, List<QualityRuleCheck> checks, List<string> errors)
    {
        string tensor;
        int index, width;
        if (layout.Find(rule.Feature) is { Source: FeatureSource.Input, IsPredictedClass: false } feature)
        {
            (tensor, index, width) = (feature.Tensor, feature.Width == 1 ? -1 : feature.Index, feature.Width);
        }
        else if (config.Inputs.Any(i => i.Name == rule.Feature))
        {
            (tensor, index, width) = (rule.Feature, -1, 1);
        }
        else
        {
            errors.Add($"quality rule for '{ClientText.Quote(rule.Feature)}' names no input or input feature of the model");
            return;
        }

        if (rule.Min is not null || rule.Max is not null)
        {
            checks.Add(new QualityRuleCheck($"{rule.Feature}:range", tensor, index, width, QualityCheckKind.Range, rule.Policy, rule.Min ?? double.NegativeInfinity, rule.Max ?? double.PositiveInfinity));
        }

        if (rule.Allowed is { } allowed)
        {
            checks.Add(new QualityRuleCheck($"{rule.Feature}:allowed", tensor, index, width, QualityCheckKind.Allowed, rule.Policy, allowed: allowed));
        }

        if (rule.ForbidMissing)
        {
            checks.Add(new QualityRuleCheck($"{rule.Feature}:missing", tensor, index, width, QualityCheckKind.NotMissing, rule.Policy));
        }
    }

    private static void AddFromProfile(FeatureLayout layout, ReferenceProfile profile, double tolerance, QualityPolicy policy, List<QualityRuleCheck> checks)
    {
        foreach (var spec in layout.Features)
        {
            if (spec.Source != FeatureSource.Input || profile.Find(spec.Name) is not { Count: > 0 } reference || checks.Any(c => c.Name.StartsWith(spec.Name + ":", StringComparison.Ordinal)))
            {
                continue; // an explicit rule for the feature replaces the derived ones
            }

            var index = spec.Width == 1 ? -1 : spec.Index;
            if (reference.Categories is { } categories && !categories.ContainsKey(ProfileBuilder.OtherCategory))
            {
                checks.Add(new QualityRuleCheck($"{spec.Name}:allowed", spec.Tensor, index, spec.Width, QualityCheckKind.Allowed, policy, allowed: [.. categories.Keys]));
            }
            else if (reference.Kind == FeatureKind.Numeric && reference.Sample.Count > 0)
            {
                var margin = (reference.Max - reference.Min) * tolerance;
                checks.Add(new QualityRuleCheck($"{spec.Name}:range", spec.Tensor, index, spec.Width, QualityCheckKind.Range, policy, reference.Min - margin, reference.Max + margin));
            }

            if (reference.Missing == 0)
            {
                checks.Add(new QualityRuleCheck($"{spec.Name}:missing", spec.Tensor, index, spec.Width, QualityCheckKind.NotMissing, policy));
            }
        }
    }

    private static Tensor? Find(List<Tensor> tensors, string name)
    {
        foreach (var tensor in tensors)
        {
            if (tensor.Name == name)
            {
                return tensor;
            }
        }

        return null;
    }
}
