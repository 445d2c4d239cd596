using System.Formats.Asn1;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Warden.Server.Security;

/// <summary>
/// The x509 scheme's ids: a client certificate's subject written as Java's X500Principal.getName() writes it
/// (RFC 2253), which is what Apache's X509AuthenticationProvider puts in a connection's auth info and what ACLs
/// name, e.g. "CN=client one,OU=Eng,O=Acme\, Inc.,C=US": the most specific name first, no spaces around the
/// commas, the RFC's keywords for the attribute types it names and the dotted OID with the value's DER encoding
/// in hex for any other (an emailAddress becomes 1.2.840.113549.1.9.1=#16...).
/// </summary>
public static class X509Identity
{
    private static readonly Dictionary<string, string> Keywords = new(StringComparer.Ordinal)
    {
        ["2.5.4.3"] = "CN",
        ["2.5.4.6"] = "C",
        ["2.5.4.7"] = "L",
        ["2.5.4.8"] = "ST",
        ["2.5.4.10"] = "O",
        ["2.5.4.11"] = "OU",
        ["2.5.4.9"] = "STREET",
        ["0.9.2342.19200300.100.1.25"] = "DC",
        ["0.9.2342.19200300.100.1.1"] = "UID",
    };

    /// <summary>The id of a certificate's subject.</summary>
    public static string Of(X509Certificate2 certificate) => Format(certificate.SubjectName.RawData);

    /// <summary>Formats a DER-encoded distinguished name (SEQUENCE OF SET OF AttributeTypeAndValue).</summary>
    public static string Format(ReadOnlyMemory<byte> der)
    {
        var rdns = new List<string>();
        var name = new AsnReader(der, AsnEncodingRules.DER).ReadSequence();
        while (name.HasData)
        {
            var set = name.ReadSetOf(skipSortOrderValidation: true);
            var values = new List<string>();
            while (set.HasData)
            {
                var pair = set.ReadSequence();
                string oid = pair.ReadObjectIdentifier();
                var encoded = pair.ReadEncodedValue();
                values.Add(Keywords.TryGetValue(oid, out var keyword) && TryReadString(encoded, out var text)
                    ? $"{keyword}={Escape(text)}"
                    : $"{oid}=#{Convert.ToHexStringLower(encoded.Span)}");
            }
            rdns.Add(string.Join('+', values));
        }
        rdns.Reverse();
        return string.Join(',', rdns);
    }

    /// <summary>Attribute keywords Java's X500Principal takes in a name besides dotted OIDs.</summary>
    private static readonly HashSet<string> ParsedKeywords = new(StringComparer.OrdinalIgnoreCase)
    {
        "CN", "C", "L", "ST", "O", "OU", "T", "IP", "STREET", "DC", "DNQUALIFIER", "DNQ", "SURNAME", "GIVENNAME",
        "INITIALS", "GENERATION", "EMAIL", "EMAILADDRESS", "UID", "SERIALNUMBER",
    };

    /// <summary>
    /// Whether an ACL id is a distinguished name, as Apache's provider checks with new X500Principal(id): attribute
    /// type and value pairs separated by ',' or ';' (or '+' within one name), a type being a keyword or a dotted
    /// OID, a value being quoted, #hex, or text with backslash escapes. The empty name is valid.
    /// </summary>
    public static bool IsValidName(string id)
    {
        if (id.Trim().Length == 0) return true;
        int i = 0;
        while (true)
        {
            int equals = id.IndexOf('=', i);
            if (equals < 0) return false;
            string type = id[i..equals].Trim();
            if (type.StartsWith("OID.", StringComparison.OrdinalIgnoreCase)) type = type[4..];
            bool isOid = type.Length > 0 && type.All(c => char.IsAsciiDigit(c) || c == '.') && !type.Contains("..", StringComparison.Ordinal)
                && char.IsAsciiDigit(type[0]) && char.IsAsciiDigit(type[^1]) && type.Contains('.');
            if (!isOid && !ParsedKeywords.Contains(type)) return false;
            i = equals + 1;
            if (!TrySkipValue(id, ref i)) return false;
            if (i >= id.Length) return true;
            i++; // the separator
        }
    }

    /// <summary>Moves past one attribute value; false when it is malformed.</summary>
    private static bool TrySkipValue(string id, ref int i)
    {
        while (i < id.Length && id[i] == ' ') i++;
        if (i < id.Length && id[i] == '"')
        {
            i++;
            while (i < id.Length && id[i] != '"')
            {
                if (id[i] == '\\') i++;
                i++;
            }
            if (i >= id.Length) return false;
            i++;
            while (i < id.Length && id[i] == ' ') i++;
            return i >= id.Length || id[i] is ',' or ';' or '+';
        }
        if (i < id.Length && id[i] == '#')
        {
            int start = ++i;
            while (i < id.Length && Uri.IsHexDigit(id[i])) i++;
            if (i == start || (i - start) % 2 != 0) return false;
            while (i < id.Length && id[i] == ' ') i++;
            return i >= id.Length || id[i] is ',' or ';' or '+';
        }
        while (i < id.Length && id[i] is not (',' or ';' or '+'))
        {
            if (id[i] == '\\')
            {
                if (i + 1 >= id.Length) return false;
                char next = id[i + 1];
                if (Uri.IsHexDigit(next) && i + 2 < id.Length && Uri.IsHexDigit(id[i + 2])) i += 3;
                else if (next is ',' or '=' or '+' or '<' or '>' or '#' or ';' or '"' or '\\' or ' ') i += 2;
                else return false;
                continue;
            }
            if (id[i] is '=' or '<' or '>' or '"') return false;
            i++;
        }
        return true;
    }

    private static bool TryReadString(ReadOnlyMemory<byte> encoded, out string text)
    {
        text = "";
        var reader = new AsnReader(encoded, AsnEncodingRules.BER);
        var tag = reader.PeekTag();
        if (tag.TagClass != TagClass.Universal) return false;
        var type = (UniversalTagNumber)tag.TagValue;
        if (type is not (UniversalTagNumber.UTF8String or UniversalTagNumber.PrintableString or UniversalTagNumber.IA5String
            or UniversalTagNumber.BMPString or UniversalTagNumber.T61String or UniversalTagNumber.VisibleString))
        {
            return false;
        }
        try
        {
            text = type == UniversalTagNumber.T61String
                ? Encoding.Latin1.GetString(reader.ReadOctetString(new Asn1Tag(UniversalTagNumber.T61String)))
                : reader.ReadCharacterString(type);
            return true;
        }
        catch (AsnContentException)
        {
            return false;
        }
    }

    /// <summary>RFC 2253 section 2.4: the special characters, a leading '#' or space and a trailing space get a backslash.</summary>
    private static string Escape(string value)
    {
        var builder = new StringBuilder(value.Length + 4);
        for (int i = 0; i < value.Length; i++)
        {
            char c = value[i];
            bool special = c is ',' or '+' or '"' or '\\' or '<' or '>' or ';'
                || (i == 0 && c is '#' or ' ')
                || (i == value.Length - 1 && c == ' ');
            if (special) builder.Append('\\');
            builder.Append(c);
        }
        return builder.ToString();
    }
}
