using System.Text.RegularExpressions;
using Turbine.Core.Repository;

namespace Turbine.Kubernetes.Resources;

/// <summary>
/// Checks what the CRD's schema cannot: the name's length with the object prefix, the registry reference, that
/// replicas and autoscaling exclude each other, the bounds and the routes. Every error is reported at once.
/// </summary>
public static partial class TurbineModelValidator
{
    /// <summary><c>turbine-</c> plus the name must stay a DNS label (63 characters).</summary>
    public const int MaxNameLength = 55;

    public static IReadOnlyList<string> Validate(TurbineModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var errors = new List<string>();
        var spec = model.Spec;
        if (model.Name.Length > MaxNameLength || !DnsLabel().IsMatch(model.Name))
        {
            errors.Add($"metadata.name: '{model.Name}' must be a DNS label of at most {MaxNameLength} characters");
        }

        var at = spec.Model.IndexOf('@', StringComparison.Ordinal);
        if (at <= 0 || !ModelNames.IsValid(spec.Model.AsSpan(0, at)) || !ModelNames.IsValid(spec.Model.AsSpan(at + 1)))
        {
            errors.Add($"spec.model: '{spec.Model}' must be model@alias or model@version");
        }

        if (spec.Replicas is not null && spec.Autoscaling is not null)
        {
            errors.Add("spec.replicas and spec.autoscaling exclude each other: give one");
        }

        if (spec.Replicas is < 0)
        {
            errors.Add("spec.replicas must be 0 or more");
        }

        if (spec.Gpus < 0)
        {
            errors.Add("spec.gpus must be 0 or more");
        }

        if (spec.Autoscaling is { } scaling)
        {
            ValidateAutoscaling(scaling, errors);
        }

        var routeNames = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < spec.Routes.Count; i++)
        {
            var route = spec.Routes[i];
            if (!DnsLabel().IsMatch(route.Name) || model.ObjectName.Length + 1 + route.Name.Length > 253)
            {
                errors.Add($"spec.routes[{i}].name: '{route.Name}' must be a DNS label");
            }
            else if (!routeNames.Add(route.Name))
            {
                errors.Add($"spec.routes[{i}].name: '{route.Name}' is used by another route");
            }

            if (route.Gateway.Name.Length == 0)
            {
                errors.Add($"spec.routes[{i}].gateway.name is required");
            }
        }

        return errors;
    }

    private static void ValidateAutoscaling(AutoscalingSpec scaling, List<string> errors)
    {
        if (scaling.Engine is not AutoscalingEngines.Hpa and not AutoscalingEngines.Keda)
        {
            errors.Add($"spec.autoscaling.engine: '{scaling.Engine}' is not one of {AutoscalingEngines.Hpa}, {AutoscalingEngines.Keda}");
        }

        if (ScalingMetrics.Gauge(scaling.Metric) is null)
        {
            errors.Add($"spec.autoscaling.metric: '{scaling.Metric}' is not one of {ScalingMetrics.Pending}, {ScalingMetrics.Executing}, {ScalingMetrics.LlmWaiting}");
        }

        var lowest = scaling.Engine == AutoscalingEngines.Keda ? 0 : 1;
        if (scaling.MinReplicas < lowest)
        {
            errors.Add($"spec.autoscaling.minReplicas must be {lowest} or more with {scaling.Engine} (scale to zero is KEDA's)");
        }

        if (scaling.MaxReplicas < Math.Max(1, scaling.MinReplicas))
        {
            errors.Add($"spec.autoscaling.maxReplicas ({scaling.MaxReplicas}) must be at least minReplicas and 1");
        }

        if (!(scaling.Target > 0) || double.IsInfinity(scaling.Target))
        {
            errors.Add("spec.autoscaling.target must be above 0");
        }

        if (scaling.ScaleDownStabilizationSeconds is < 0 or > 3600)
        {
            errors.Add("spec.autoscaling.scaleDownStabilizationSeconds must be within 0 to 3600 (the HPA's bounds)");
        }
    }

    [GeneratedRegex("^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$", RegexOptions.None, matchTimeoutMilliseconds: 100)]
    private static partial Regex DnsLabel();
}
