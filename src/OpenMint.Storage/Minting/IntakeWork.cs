using OpenMint.Core.Minting;

namespace OpenMint.Storage.Minting;

/// <summary>One create request waiting for the intake writer.</summary>
/// <param name="Records">The rows to insert, built on the caller's thread (ids are assigned by the writer).</param>
/// <param name="ReferenceIds">The request's reference ids, in request order.</param>
/// <param name="CheckedTokenIds">From <see cref="MintIntakePolicy.CheckedTokenIds"/>.</param>
/// <param name="DialectParameters">What <see cref="SqlDialect.PrepareIntake"/> serialised on the caller's thread, so the single writer only binds it.</param>
internal sealed record IntakeWork(MintIntake Intake, MintRequestRecord[] Records, string[] ReferenceIds, string[] CheckedTokenIds,
    object? DialectParameters, TaskCompletionSource<MintIntakeOutcome> Done, CancellationToken Ct);
