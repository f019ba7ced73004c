namespace OpenMint.Core.Minting;

/// <summary>The token metadata fields of the wire contract (docs/api.md): validated at mint, served flat by the asset read.</summary>
public static class MetadataFields
{
    /// <summary>Fields that are a string or null.</summary>
    public static readonly IReadOnlyList<string> Strings = ["name", "description", "image", "external_url", "animation_url", "youtube_url"];

    /// <summary>Allowed values of <c>attributes[].display_type</c> (besides null).</summary>
    public static readonly IReadOnlyList<string> DisplayTypes = ["number", "boost_percentage", "boost_number", "date"];
}
