using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Turbine.IntegrationTests;

/// <summary>A private certificate authority with a server certificate for 127.0.0.1 and a client certificate, as PEM files.</summary>
internal sealed class TestCertificates : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "turbine-tls", Guid.NewGuid().ToString("N"));

    public TestCertificates()
    {
        Directory.CreateDirectory(_folder);
        using var authorityKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var authorityRequest = new CertificateRequest("CN=Turbine Test CA", authorityKey, HashAlgorithmName.SHA256);
        authorityRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        authorityRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        Authority = authorityRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));

        var server = Issue("CN=127.0.0.1", "1.3.6.1.5.5.7.3.1", Authority, san: true);
        Client = Issue("CN=client", "1.3.6.1.5.5.7.3.2", Authority, san: false);
        using var rogueKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var rogueRequest = new CertificateRequest("CN=rogue", rogueKey, HashAlgorithmName.SHA256);
        Rogue = rogueRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));

        File.WriteAllText(ServerCertificateFile, server.ExportCertificatePem());
        File.WriteAllText(ServerKeyFile, server.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(AuthorityFile, Authority.ExportCertificatePem());
    }

    public X509Certificate2 Authority { get; }

    public X509Certificate2 Client { get; }

    public X509Certificate2 Rogue { get; }

    public string ServerCertificateFile => Path.Combine(_folder, "server.pem");

    public string ServerKeyFile => Path.Combine(_folder, "server.key");

    public string AuthorityFile => Path.Combine(_folder, "ca.pem");

    /// <summary>A handler that trusts only the test authority, presenting <paramref name="clientCertificate"/> if given.</summary>
    public SocketsHttpHandler Handler(X509Certificate2? clientCertificate = null)
    {
        var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
        {
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(Authority);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            return certificate is not null && chain.Build(new X509Certificate2(certificate));
        };
        if (clientCertificate is not null)
        {
            handler.SslOptions.ClientCertificates = [clientCertificate];
        }

        return handler;
    }

    public void Dispose()
    {
        Directory.Delete(_folder, recursive: true);
    }

    private static X509Certificate2 Issue(string subject, string usage, X509Certificate2 authority, bool san)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(usage)], false));
        if (san)
        {
            var names = new SubjectAlternativeNameBuilder();
            names.AddIpAddress(System.Net.IPAddress.Loopback);
            request.CertificateExtensions.Add(names.Build());
        }

        var serial = new byte[8];
        RandomNumberGenerator.Fill(serial);
        using var issued = request.Create(authority, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(10), serial);
        return issued.CopyWithPrivateKey(key);
    }
}
