namespace Turbine;

/// <summary>
/// GPT-2's byte-to-character table, which byte-level BPE vocabularies (GPT-2, Qwen, Llama 3, ...) are written in:
/// printable Latin-1 bytes stand for themselves, the others take the characters from U+0100 up in byte order (a space
/// is 'Ġ'). Writing vocabularies and reading a token's raw bytes back both need it.
/// </summary>
public static class ByteLevelAlphabet
{
    private static readonly char[] Characters = Build();
    private static readonly Dictionary<char, byte> Bytes = Characters.Select((c, b) => (c, (byte)b)).ToDictionary(p => p.c, p => p.Item2);

    /// <summary>The character that stands for <paramref name="value"/>.</summary>
    public static char ToChar(byte value) => Characters[value];

    /// <summary>The raw bytes a vocabulary entry stands for; null when it holds a character outside the table.</summary>
    public static byte[]? ToBytes(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        var bytes = new byte[token.Length];
        for (var i = 0; i < token.Length; i++)
        {
            if (!Bytes.TryGetValue(token[i], out bytes[i]))
            {
                return null;
            }
        }

        return bytes;
    }

    private static char[] Build()
    {
        var characters = new char[256];
        var next = 256;
        for (var b = 0; b < 256; b++)
        {
            var printable = b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            characters[b] = printable ? (char)b : (char)next++;
        }

        return characters;
    }
}
