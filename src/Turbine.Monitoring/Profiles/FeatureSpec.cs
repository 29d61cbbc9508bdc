namespace Turbine.Monitoring.Profiles;

/// <summary>Whether a feature is a number (drift by distribution tests) or a category (drift by frequency tests).</summary>
public enum FeatureKind
{
    /// <summary>A number: integers and floating point.</summary>
    Numeric,

    /// <summary>A category: text (BYTES), booleans, and a model's predicted class.</summary>
    Categorical,
}

/// <summary>Whether a feature is read from the request or from the answer.</summary>
public enum FeatureSource
{
    /// <summary>A model input.</summary>
    Input,

    /// <summary>A model output (prediction drift).</summary>
    Output,
}

/// <summary>
/// One monitored feature: element <see cref="Index"/> of each row of tensor <see cref="Tensor"/>, or, for the
/// predicted class of a classifier, the index of the row's largest element (<see cref="IsPredictedClass"/>).
/// </summary>
/// <param name="Name">The feature's name: the tensor's for a one-element row, <c>tensor[i]</c> otherwise, <c>tensor:class</c> for the predicted class.</param>
/// <param name="Source">Input or output.</param>
/// <param name="Tensor">The tensor it is read from.</param>
/// <param name="Index">The element within the row.</param>
/// <param name="Width">Elements per row of the tensor.</param>
/// <param name="Kind">Numeric or categorical.</param>
/// <param name="IsPredictedClass">Whether the feature is the row's argmax.</param>
public sealed record FeatureSpec(string Name, FeatureSource Source, string Tensor, int Index, int Width, FeatureKind Kind, bool IsPredictedClass = false);
