namespace Turbine.Edge.Updates.Tuf;

/// <summary>Why metadata or a target was refused: each is an attack TUF defends against, or a broken repository.</summary>
public enum TufFailure
{
    /// <summary>Not the expected JSON, role or field.</summary>
    Malformed,

    /// <summary>Fewer valid signatures from the role's keys than its threshold.</summary>
    BadSignature,

    /// <summary>Past its expiry date: a freeze attack, or a repository nobody re-signs.</summary>
    Expired,

    /// <summary>A lower version than one already trusted: a rollback attack.</summary>
    Rollback,

    /// <summary>A version other than the one the role above names: a mix-and-match attack.</summary>
    VersionMismatch,

    /// <summary>Bigger than the limit or than the length the metadata gives: an endless-data attack.</summary>
    TooLarge,

    /// <summary>Content whose digest differs from the signed one.</summary>
    DigestMismatch,

    /// <summary>The repository could not be reached or answered with an error.</summary>
    Unavailable,
}

/// <summary>Metadata or a target the client refuses; what it trusted before stays as it was.</summary>
public sealed class TufException(TufFailure failure, string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>Which defence refused it.</summary>
    public TufFailure Failure { get; } = failure;
}
