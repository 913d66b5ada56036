import { isPrivateAddress, namesPrivateHost, publicOnlyLookup } from '../src/webhooks/addresses';
import { retryDelay, triesFor } from '../src/webhooks/deliver';
import { signature } from '../src/webhooks/sign';

describe('webhook deliveries', () => {
  it('are retried doubling from the base, at most an hour apart, for a day or more', () => {
    for (const base of [300, 5000]) {
      const tries = triesFor(base);
      const waited = Array.from({ length: tries - 1 }, (_, i) => retryDelay(i + 1, base)).reduce((a, b) => a + b, 0);
      expect(waited).toBeGreaterThanOrEqual(86_400_000);
      expect(waited - retryDelay(tries - 1, base)).toBeLessThan(86_400_000); // not one try more than that
    }
    expect(retryDelay(1, 5000)).toBe(5000);
    expect(retryDelay(2, 5000)).toBe(10_000);
    expect(retryDelay(30, 5000)).toBe(3_600_000);
  });

  it('never go to private, loopback or link-local addresses, by name or after resolving', async () => {
    for (const address of [
      '127.0.0.1',
      '10.0.0.8',
      '172.20.1.1',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '::1',
      'fd00::1',
      'fe80::1',
      '::ffff:10.0.0.1',
    ])
      expect({ address, private: isPrivateAddress(address) }).toEqual({ address, private: true });
    for (const address of ['93.184.216.34', '8.8.8.8', '2606:4700::1111'])
      expect({ address, private: isPrivateAddress(address) }).toEqual({ address, private: false });
    expect(namesPrivateHost('http://localhost:8080/x')).toBe(true);
    expect(namesPrivateHost('http://[::1]/x')).toBe(true);
    expect(namesPrivateHost('https://hooks.example.com/x')).toBe(false);
    // a name that resolves to loopback is refused when connecting
    const error = await new Promise<Error | null>((resolve) => publicOnlyLookup('localhost', {}, (err) => resolve(err)));
    expect(error?.message).toMatch(/resolves to .*a private address/);
  });

  it('are signed as the Standard Webhooks example says', () => {
    // The specification's own example (standard-webhooks.com / its libraries' tests).
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const body = '{"test": 2432232314}';
    expect(signature(secret, 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, body)).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });
});
