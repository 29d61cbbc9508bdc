using Turbine.Core.Repository;

namespace Turbine.Server.Registry;

/// <summary>A <c>model@alias</c> (or <c>model@version</c>) a server follows in its registry.</summary>
public sealed record FollowedModel(string Model, string Reference)
{
    public static bool TryParse(string text, out FollowedModel followed)
    {
        ArgumentNullException.ThrowIfNull(text);
        var at = text.IndexOf('@', StringComparison.Ordinal);
        followed = new FollowedModel(at > 0 ? text[..at] : string.Empty, at > 0 ? text[(at + 1)..] : string.Empty);
        return at > 0 && ModelNames.IsValid(followed.Model) && ModelNames.IsValid(followed.Reference);
    }

    /// <inheritdoc />
    public override string ToString() => $"{Model}@{Reference}";
}
