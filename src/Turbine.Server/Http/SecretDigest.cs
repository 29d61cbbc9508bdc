using System.Security.Cryptography;
using System.Text;

namespace Turbine.Server.Http;

/// <summary>
/// A configured secret (API key, management token) kept only as its SHA-256 digest. A presented secret is hashed
/// and the two 32-byte digests compared in constant time, so the time a comparison takes says nothing about the
/// secret: not its content, and not its length, which comparing the raw bytes would give away at once.
/// </summary>
internal sealed class SecretDigest
{
    private readonly byte[] _digest;

    private SecretDigest(byte[] digest) => _digest = digest;

    public static SecretDigest Of(string secret) => new(Hash(secret));

    /// <summary>Whether <paramref name="presented"/> is the secret.</summary>
    public bool Matches(ReadOnlySpan<char> presented) => CryptographicOperations.FixedTimeEquals(Hash(presented), _digest);

    private static byte[] Hash(ReadOnlySpan<char> text)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(text)];
        Encoding.UTF8.GetBytes(text, bytes);
        return SHA256.HashData(bytes);
    }
}
