using System.Security.Cryptography;

namespace Turbine.IntegrationTests;

/// <summary>ECDSA P-256 signing keys for the registry tests, written as PEM files the way operators keep them.</summary>
internal static class TestKeys
{
    /// <summary>Writes <c>name.pem</c> (private) and <c>name.pub.pem</c> (public) into <paramref name="folder"/>.</summary>
    public static (string Private, string Public) Write(string folder, string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var privatePath = Path.Combine(folder, name + ".pem");
        var publicPath = Path.Combine(folder, name + ".pub.pem");
        File.WriteAllText(privatePath, key.ExportECPrivateKeyPem());
        File.WriteAllText(publicPath, key.ExportSubjectPublicKeyInfoPem());
        return (privatePath, publicPath);
    }
}
