type ThemeChoice = 'light' | 'dark' | 'system';
const KEY = 'tora.theme';

/** Light/dark theme: the system's by default, a remembered choice once the user toggles. */
class Theme {
  choice = $state<ThemeChoice>('system');
  private systemDark = $state(false);
  readonly resolved = $derived<'light' | 'dark'>(this.choice === 'system' ? (this.systemDark ? 'dark' : 'light') : this.choice);

  init(): void {
    const stored = localStorage.getItem(KEY);
    this.choice = stored === 'light' || stored === 'dark' ? stored : 'system';
    const mq = matchMedia('(prefers-color-scheme: dark)');
    this.systemDark = mq.matches;
    mq.addEventListener('change', (e) => (this.systemDark = e.matches));
  }

  toggle(): void {
    this.set(this.resolved === 'dark' ? 'light' : 'dark');
  }

  set(choice: ThemeChoice): void {
    this.choice = choice;
    if (choice === 'system') {
      localStorage.removeItem(KEY);
      delete document.documentElement.dataset.theme;
    } else {
      localStorage.setItem(KEY, choice);
      document.documentElement.dataset.theme = choice;
    }
  }
}

export const theme = new Theme();
