// Sign-up, sign-in and sessions against the Cognito user pool, through
// amazon-cognito-identity-js: SRP sign-in, tokens in its default storage (localStorage),
// and getSession before every API call, which refreshes an expired ID token with the
// refresh token.

import { AuthenticationDetails, CognitoUser, CognitoUserAttribute, CognitoUserPool } from 'amazon-cognito-identity-js';
import { clearCdnCookies } from './cdn.js';

/** A Cognito failure with the service's own message (a password policy, a wrong code). */
export class AuthError extends Error {
  name = 'AuthError';
  constructor(message, code) {
    super(message);
    this.code = code;
  }
}

const wrap = (err) => new AuthError(err?.message || String(err), err?.code || err?.name);

/**
 * Auth holds the signed-in user ({ email, sub } or null) and fires "change" when it changes.
 */
export class Auth extends EventTarget {
  user = null;

  constructor(config) {
    super();
    // The pool's region comes from its id; endpoint points the library at an emulator.
    this.pool = new CognitoUserPool({
      UserPoolId: config.userPoolId,
      ClientId: config.userPoolClientId,
      endpoint: config.cognitoEndpoint || undefined,
    });
  }

  /**
   * The current session, refreshed when its tokens expired; null when no one is signed in
   * or the refresh token is no longer accepted. Other failures (network) reject.
   */
  session() {
    const cognitoUser = this.pool.getCurrentUser();
    if (!cognitoUser) {
      this.#setUser(null);
      return Promise.resolve(null);
    }
    return new Promise((resolve, reject) => {
      cognitoUser.getSession((err, session) => {
        if (err) {
          // A refused or expired refresh token, a deleted user, or storage missing a token
          // (no code): the stored session is worthless. The network or Cognito failing is
          // not the session's fault, and keeps it for the next try.
          if (!err.code || err.code === 'NotAuthorizedException' || err.code === 'UserNotFoundException') {
            cognitoUser.signOut();
            this.#setUser(null);
            resolve(null);
            return;
          }
          reject(new AuthError(`Cannot refresh your session: ${err.message}`, err.code));
          return;
        }
        if (!session?.isValid()) {
          this.#setUser(null);
          resolve(null);
          return;
        }
        this.#setUser(session);
        resolve(session);
      });
    });
  }

  /** The ID token for the API's Authorization header, or null when signed out. */
  async idToken() {
    const session = await this.session();
    return session ? session.getIdToken().getJwtToken() : null;
  }

  /** Registers email with password; resolves { confirmed, destination }. */
  signUp(email, password) {
    const attrs = [new CognitoUserAttribute({ Name: 'email', Value: email })];
    return new Promise((resolve, reject) => {
      this.pool.signUp(email, password, attrs, null, (err, result) => {
        if (err) return reject(wrap(err));
        resolve({ confirmed: Boolean(result?.userConfirmed), destination: result?.codeDeliveryDetails?.Destination ?? '' });
      });
    });
  }

  /** Confirms a registration with the emailed code. */
  confirm(email, code) {
    return new Promise((resolve, reject) => {
      this.#cognitoUser(email).confirmRegistration(code, true, (err) => (err ? reject(wrap(err)) : resolve()));
    });
  }

  resendCode(email) {
    return new Promise((resolve, reject) => {
      this.#cognitoUser(email).resendConfirmationCode((err, result) =>
        err ? reject(wrap(err)) : resolve(result?.CodeDeliveryDetails?.Destination ?? ''));
    });
  }

  /** Signs in with SRP (the library's default flow). */
  signIn(email, password) {
    const cognitoUser = this.#cognitoUser(email);
    const details = new AuthenticationDetails({ Username: email, Password: password });
    return new Promise((resolve, reject) => {
      const unsupported = (what) => () =>
        reject(new AuthError(`This account needs ${what}, which this app does not support. Complete it with another client.`, 'Unsupported'));
      cognitoUser.authenticateUser(details, {
        onSuccess: (session) => {
          this.#setUser(session);
          resolve();
        },
        onFailure: (err) => reject(wrap(err)),
        newPasswordRequired: () =>
          reject(new AuthError('This account must set a new password before it can sign in (an administrator created it). Ask them to reset it.', 'NewPasswordRequired')),
        mfaRequired: unsupported('an SMS code'),
        totpRequired: unsupported('an authenticator code'),
        selectMFAType: unsupported('multi-factor authentication'),
        mfaSetup: unsupported('multi-factor authentication to be set up'),
        customChallenge: unsupported('a custom challenge'),
      });
    });
  }

  /** Forgets the tokens on this device and the CDN cookies the app set. */
  signOut() {
    this.pool.getCurrentUser()?.signOut();
    clearCdnCookies();
    this.#setUser(null);
  }

  #cognitoUser(email) {
    return new CognitoUser({ Username: email, Pool: this.pool });
  }

  #setUser(session) {
    let user = null;
    if (session) {
      const claims = session.getIdToken().decodePayload();
      user = { email: claims.email ?? claims['cognito:username'] ?? '', sub: claims.sub ?? '' };
    }
    if (user?.email === this.user?.email && user?.sub === this.user?.sub) return;
    this.user = user;
    this.dispatchEvent(new Event('change'));
  }
}
