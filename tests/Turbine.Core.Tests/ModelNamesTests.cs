using Turbine.Core.Repository;

namespace Turbine.Core.Tests;

/// <summary>SECURITY.md A2: names and versions that reach the file system.</summary>
public sealed class ModelNamesTests
{
    [Theory]
    [InlineData("../etc")]
    [InlineData("a/../b")]
    [InlineData("/etc/passwd")]
    [InlineData("..\\..\\x")]
    [InlineData("C:\\x")]
    [InlineData("%2e%2e%2f")]
    [InlineData("CON/")]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData(" model")]
    [InlineData("model ")]
    [InlineData(".")]
    [InlineData("..")]
    [InlineData(".hidden")]
    [InlineData("-flag")]
    [InlineData("a\nb")]
    [InlineData("a\u0000b")]
    [InlineData("mödel")]
    [InlineData("CON")]
    [InlineData("nul.json")]
    [InlineData("Com7")]
    [InlineData("lpt1.x")]
    public void Unsafe_names_are_rejected(string name) => Assert.False(ModelNames.IsValid(name));

    [Fact]
    public void Names_longer_than_128_characters_are_rejected()
    {
        Assert.True(ModelNames.IsValid(new string('a', 128)));
        Assert.False(ModelNames.IsValid(new string('a', 129)));
        Assert.False(ModelNames.IsValid(new string('a', 256)));
    }

    [Theory]
    [InlineData("simple")]
    [InlineData("model..1")]
    [InlineData("a.b-c_d")]
    [InlineData("ResNet18")]
    [InlineData("0model")]
    [InlineData("console")]
    [InlineData("com10")]
    [InlineData("com0")]
    [InlineData("auxiliary.v2")]
    public void Ordinary_names_are_accepted(string name) => Assert.True(ModelNames.IsValid(name));

    [Theory]
    [InlineData("1", 1)]
    [InlineData("42", 42)]
    [InlineData("999999999999999999", 999999999999999999)]
    public void Positive_decimal_versions_parse(string text, long expected)
    {
        Assert.True(ModelNames.TryParseVersion(text, out var version));
        Assert.Equal(expected, version);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("01")]
    [InlineData("-1")]
    [InlineData("+1")]
    [InlineData("1.0")]
    [InlineData(" 1")]
    [InlineData("1e3")]
    [InlineData("")]
    [InlineData("..")]
    [InlineData("9999999999999999999")]
    public void Other_versions_are_rejected(string text) => Assert.False(ModelNames.TryParseVersion(text, out _));
}
