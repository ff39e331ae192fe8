"""A client generated from finseg's OpenAPI document by a standard
generator (openapi-python-client) runs segment jobs end to end against a
running demo: it creates a lowBalance and an insurance job, polls each until
done, and reads the typed members.

    python3 tests/client/end_to_end.py CLIENT_PACKAGE_DIR BASE_URL TOKEN

`scripts/generated-client-test.sh` generates the client from `finseg
openapi` first and starts the demo.
"""
import sys
import time

sys.path.insert(0, sys.argv[1])
base_url, token = sys.argv[2], sys.argv[3]

from finseg_client import AuthenticatedClient  # noqa: E402
from finseg_client.api.segments import (  # noqa: E402
    create_insurance_job,
    create_low_balance_job,
    get_insurance_result,
    get_low_balance_result,
)
from finseg_client.api.users import list_users  # noqa: E402
from finseg_client.models import (  # noqa: E402
    InsuranceParameters,
    InsuranceResult,
    JobCreated,
    LowBalanceParameters,
    LowBalanceResult,
    UserPage,
)

client = AuthenticatedClient(base_url=base_url, token=token, raise_on_unexpected_status=True)


def fail(message):
    print(f"generated client: {message}", file=sys.stderr)
    sys.exit(1)


def wait(get, job_id, kind):
    deadline = time.time() + 60
    while time.time() < deadline:
        answer = get.sync_detailed(job_id, client=client)
        if answer.status_code == 200:
            if not isinstance(answer.parsed, kind):
                fail(f"200 without a {kind.__name__}: {answer.content[:300]!r}")
            return answer.parsed
        if answer.status_code != 404:
            fail(f"polling {job_id}: {answer.status_code} {answer.content[:300]!r}")
        time.sleep(0.1)
    fail(f"job {job_id} did not finish in 60 s")


users = list_users.sync(client=client, per_page=5)
if not isinstance(users, UserPage) or users.paging.total_count < 1:
    fail(f"listing users: {users}")

created = create_low_balance_job.sync(
    client=client, body=LowBalanceParameters(threshold="100000", duration_in_month=2)
)
if not isinstance(created, JobCreated):
    fail(f"creating a lowBalance job: {created}")
low = wait(get_low_balance_result, created.job_id, LowBalanceResult)
if low.users_matched < 1 or len(low.users) != low.users_matched:
    fail(f"lowBalance: {low.users_matched} matched, {len(low.users)} listed")
for member in low.users:
    for account in member.accounts:
        if float(account.amount) >= 100000:
            fail(f"lowBalance: {member.user_id}'s lowest balance {account.amount} is not below the threshold")
        if len(account.months) != 2:
            fail(f"lowBalance: {member.user_id} has {len(account.months)} months, not 2")

created = create_insurance_job.sync(
    client=client, body=InsuranceParameters(duration_in_month=12)
)
if not isinstance(created, JobCreated):
    fail(f"creating an insurance job: {created}")
insurance = wait(get_insurance_result, created.job_id, InsuranceResult)
contracts = [c for m in insurance.users for c in m.contracts]
if not contracts:
    fail("insurance: no contract in the demo population")
for c in contracts:
    if not c.provider or not c.insurance_type or c.payment_count < 1:
        fail(f"insurance: an incomplete contract {c}")

print(
    f"generated client: {users.paging.total_count} users; lowBalance {low.users_matched} members; "
    f"insurance {len(contracts)} contracts of {len(insurance.users)} members"
)
